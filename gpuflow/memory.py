"""`gf.memory`: statistics and control of the caching allocator of cuda (and sim) devices (like torch.cuda's
memory API)."""
from __future__ import annotations

from . import devices
from .errors import InvalidArgumentError
from .runtime import memory as _memory

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["allocated", "empty_cache", "peak", "record_stream", "reserved", "reset_peak", "summary"]


def _pool(device=None):
    dev = devices.parse(device) if device is not None else devices.current()
    if dev.kind == "sim":  # sim's device memory is a pool of host blocks under the same allocator
        from .runtime.sim import memory as sim_memory
        return sim_memory.allocator(dev.index)
    if dev.kind != "cuda":
        dev = devices.Device("cuda", 0)
    return _memory.allocator(dev.index)


def allocated(device=None) -> int:
    """Bytes held by live tensors.

    Devices: cuda (the allocator of `device`; for a cpu or sim device, that of cuda:0)"""
    return _pool(device).allocated


def reserved(device=None) -> int:
    """Bytes gpuflow holds from the driver: live tensors plus its cache.

    Devices: cuda (the allocator of `device`; for a cpu or sim device, that of cuda:0)"""
    return _pool(device).reserved


def peak(device=None) -> int:
    """The most bytes allocated at once since the start or the last reset_peak().

    Devices: cuda (the allocator of `device`; for a cpu or sim device, that of cuda:0)"""
    return _pool(device).peak


def reset_peak(device=None) -> None:
    """Starts peak() counting again from the bytes allocated now.

        Devices: cuda (the allocator of `device`; for a cpu or sim device, that of cuda:0)
    """
    _pool(device).reset_peak()


def empty_cache(device=None) -> None:
    """Give cached, unused blocks back to the driver (for other processes; gpuflow does not need it).

    Devices: cuda (the allocator of `device`; for a cpu or sim device, that of cuda:0)"""
    _pool(device).empty_cache()


def summary(device=None) -> str:
    """A table of the caching allocator's counters (allocated, reserved, peak, cached blocks), as a string.

        Devices: cuda (the allocator of `device`; for a cpu or sim device, that of cuda:0)
    """
    return _pool(device).summary()


def record_stream(tensor, stream) -> None:
    """`tensor`'s buffer is used by work on `stream` (a cupy Stream): when the tensor is freed, its
    memory is not reused until that work is done.

    Devices: cuda (a tensor on another device is an error)"""
    if tensor._device.kind != "cuda":
        raise InvalidArgumentError(f"gf.memory.record_stream: the tensor is on {tensor._device}; only cuda tensors "
                                   f"live in the caching allocator")
    block = _memory.block_of(tensor._data)
    if block is not None:
        _pool(tensor._device).record_stream(block, stream.ptr)
