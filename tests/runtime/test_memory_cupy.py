"""The allocator's CuPy wiring checked against CuPy's own classes, without a GPU (the GPU side is
tests/runtime/test_memory_gpu.py)."""
import types

import pytest

from gpuflow.runtime import memory

cupy = pytest.importorskip("cupy", reason="CuPy is not installed")


def test_allocator_events_use_runtime_calls_that_cupy_has():
    # The allocator records its events by raw stream handle (no ExternalStream, deprecated in CuPy 14):
    # every runtime call and flag _StreamEvent uses must exist under these names.
    runtime = cupy.cuda.runtime
    for name in ("eventCreateWithFlags", "eventRecord", "eventQuery", "eventDestroy", "eventDisableTiming"):
        assert hasattr(runtime, name), name


def test_a_block_is_given_back_when_cupy_drops_its_memory():
    # The memory object CuPy gets from the hook keeps the block's owner alive, and only it.
    from cupy.cuda import memory as cmem
    freed = []
    pool = memory.CachingAllocator(lambda size: 1 << 20, lambda ptr: None)
    pool.free = lambda block: freed.append(block)  # noqa: E731 - observe what _Owner gives back
    block = memory.Block(1 << 20, 512, 0)
    pointer = cmem.MemoryPointer(cmem.UnownedMemory(block.ptr, block.size, memory._Owner(pool, block), 0), 0)
    assert memory.block_of(types.SimpleNamespace(data=pointer)) is block
    assert pointer.ptr == block.ptr and not freed
    del pointer
    assert freed == [block]


def test_out_of_memory_is_cupys_runtime_error():
    # what _new_pool tells the allocator to treat as "the driver is out of memory"
    from cupy_backends.cuda.api.runtime import CUDARuntimeError
    assert cupy.cuda.runtime.CUDARuntimeError is CUDARuntimeError


def test_record_stream_refuses_a_tensor_that_is_not_on_cuda():
    import gpuflow as gf
    from gpuflow.errors import InvalidArgumentError
    with gf.device("cpu"):
        x = gf.zeros([4])
    with pytest.raises(InvalidArgumentError, match="record_stream: the tensor is on cpu:0"):
        gf.memory.record_stream(x, cupy.cuda.Stream.null)
