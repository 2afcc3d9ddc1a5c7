"""Disk cache of the cuda loader's kernels: one CUBIN per (kernel file, name expression, GPU arch).

CuPy 13 does not disk-cache a RawModule built with name expressions, so without this every process
would recompile each kernel it uses (~0.15 s apiece with NVRTC); CuPy 14 does, but only once a GPU is
there to compile on, and with -ftz=true. This cache can be filled ahead, on any machine, for a given
architecture (`python -m gpuflow.kernels warm --arch sm_90`). Here NVRTC (through cuda-python,
gpuflow/kernels/nvrtc.py, the driver of `python -m gpuflow.kernels check`) compiles one name
expression to a CUBIN for the device's exact architecture; the loader then loads it with
cupy.RawModule(path=...).

Layout, under $GPUFLOW_CACHE_DIR/cuda (default ~/.cache/gpuflow/cuda): `<key>.cubin` and
`<key>.json` = {"format", "file", "name", "arch", "lowered", "size", "sha256"}. The key hashes
everything the CUBIN depends on: the kernel file's source, every .cuh beside it, the NVRTC
version, the options (arch and include dirs among them), the toolkit headers the kernels include
and the name expression. Both files are written to a temporary name and renamed into place, so a
reader sees a whole file or none; an entry is used only if its JSON parses and its CUBIN has the
size and sha256 the JSON records (two processes racing on one key can leave a CUBIN of one with
the JSON of the other: that too is rejected and rebuilt). Nothing in the cache is ever executed
as Python; a CUBIN is only handed to the CUDA driver, as CuPy's own cache does.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import sources
from .sources import kernel_dir

# Bump when the entry layout or the recipe of the key changes.
FORMAT = "1"

# Counters the tests use to prove the cache works without timing anything.
stats = {"compiles": 0, "disk_hits": 0, "rejected": 0}

log = logging.getLogger("gpuflow")


class CubinCompileError(RuntimeError):
    """NVRTC refused the kernel; the message carries its log."""


@dataclass(frozen=True)
class Entry:
    path: Path      # the CUBIN, whole and checked
    lowered: str    # the mangled entry name of the name expression, for get_function


def cache_dir() -> Path:
    return sources.cache_dir("cuda")


def available() -> bool:
    """Whether cuda-python's NVRTC can be used (else the loader compiles through CuPy each process)."""
    from ..kernels.nvrtc import nvrtc_version
    try:
        nvrtc_version()
        return True
    except Exception:  # noqa: BLE001 - ImportError, or a cuda-python that cannot open libnvrtc
        return False


def cache_key(file: str, source: bytes, headers: dict, name: str, options, nvrtc_version) -> str:
    from .cuda_headers import toolkit_headers_digest
    h = hashlib.sha256()

    def feed(data: bytes):  # length-prefixed, so no two different inputs run together alike
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)

    for text in (FORMAT, file, name, repr(tuple(nvrtc_version)), repr(tuple(options)), toolkit_headers_digest()):
        feed(text.encode())
    feed(source)
    for header in sorted(headers):
        feed(header.encode())
        feed(headers[header])
    return h.hexdigest()[:40]


def kernel_headers(root: Path) -> dict[str, bytes]:
    """Every .cuh in the kernel folder: a kernel file may include any of them, directly or not."""
    return {p.name: p.read_bytes() for p in sorted(root.glob("*.cuh"))}


def get(file: str, name: str, arch, root: Path | None = None, source: bytes | None = None) -> Entry:
    """The CUBIN of `name` (a name expression) from kernels/`file` for `arch` ('90' or 'sm_90'):
    from the cache when a whole entry with this key is there, else compiled by NVRTC and stored.
    `source`: the text to compile instead of the file's (a generated kernel, which includes kernels/ headers)."""
    from ..kernels.nvrtc import arch_name, compile_program, cubin_options, nvrtc_version
    root = Path(root) if root is not None else kernel_dir()
    if source is None:
        source = (root / file).read_bytes()  # read once: the key and the compile see the same bytes
    options = cubin_options(arch, root)
    key = cache_key(file, source, kernel_headers(root), name, options, nvrtc_version())
    folder = cache_dir()
    entry = _read(folder, key)
    if entry is not None:
        stats["disk_hits"] += 1
        return entry
    result = compile_program(source, file, [name], options, cubin=True)
    if not result.ok or not result.cubin:
        raise CubinCompileError(f"NVRTC could not compile {name} from {file} for {arch_name(arch)}:\n{result.log}")
    stats["compiles"] += 1
    meta = {"format": FORMAT, "file": file, "name": name, "arch": arch_name(arch), "lowered": result.lowered[name],
            "size": len(result.cubin), "sha256": hashlib.sha256(result.cubin).hexdigest()}
    # The CUBIN first: a JSON in place always names a CUBIN that was once whole.
    _write_atomic(folder / f"{key}.cubin", result.cubin)
    _write_atomic(folder / f"{key}.json", json.dumps(meta, indent=1).encode())
    return Entry(folder / f"{key}.cubin", meta["lowered"])


def _read(folder: Path, key: str) -> Entry | None:
    meta_path, cubin_path = folder / f"{key}.json", folder / f"{key}.cubin"
    try:
        meta = json.loads(meta_path.read_bytes())
        data = cubin_path.read_bytes()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:  # unreadable, or JSON that does not parse (ValueError covers bad UTF-8)
        return _reject(meta_path, f"cannot be read ({e})")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("lowered"), str):
        return _reject(meta_path, f"is not a format-{FORMAT} entry")
    if meta.get("size") != len(data) or meta.get("sha256") != hashlib.sha256(data).hexdigest():
        return _reject(meta_path, f"describes another CUBIN than the {len(data)} bytes beside it")
    return Entry(cubin_path, meta["lowered"])


def _reject(meta_path: Path, why: str) -> None:
    stats["rejected"] += 1
    log.info("gpuflow kernel cache: %s %s; recompiling that kernel", meta_path, why)
    return None


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a cache folder shared by users can still read it
        os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one, never part
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def clear() -> None:
    """Delete every cached CUBIN (the same as `rm -rf $GPUFLOW_CACHE_DIR/cuda`)."""
    import shutil
    shutil.rmtree(cache_dir(), ignore_errors=True)
