"""What makes a file a CUBIN, for the tests of the CUBIN cache and of `python -m gpuflow.kernels warm`."""
from __future__ import annotations

import struct

EM_CUDA = 190  # the ELF e_machine of NVIDIA GPU code


def cuda_elf_sm(data: bytes) -> int:
    """The SM a CUBIN was built for, after checking it is one: a 64-bit little-endian ELF for EM_CUDA.

    Not e_ident's OS/ABI byte (EI_OSABI): NVRTC 12 writes 0x33 (CUDA ABI v1), NVRTC 13 0x41 (v2) for
    the same sm_90 code. That byte does say where the SM sits in e_flags: the low byte in v1 (sm_90:
    0x5a055a), the next one in v2 (sm_90: 0x6005a04), as LLVM's ELF.h has it (EF_CUDA_SM vs EF_CUDA_SM_MASK).
    """
    assert data[:4] == b"\x7fELF", f"not an ELF file (PTX?): starts {data[:8]!r}"
    assert data[4:6] == b"\x02\x01", f"not a 64-bit little-endian ELF: class/data {data[4:6].hex()}"
    machine = struct.unpack_from("<H", data, 18)[0]
    assert machine == EM_CUDA, f"ELF e_machine {machine}, not EM_CUDA ({EM_CUDA}): not GPU code"
    e_flags = struct.unpack_from("<I", data, 48)[0]
    return (e_flags >> 8) & 0xFF if data[7] == 0x41 else e_flags & 0xFF
