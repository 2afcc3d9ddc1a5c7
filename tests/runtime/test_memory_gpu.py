"""The caching allocator wired into CuPy, on a real GPU."""
import gc
import warnings

import pytest

import gpuflow as gf
from gpuflow.errors import ResourceExhaustedError

pytestmark = pytest.mark.gpu


def test_tensors_are_counted_and_their_memory_reused():
    with gf.device("cuda"):
        gf.zeros([1])
        gc.collect()
        base = gf.memory.allocated()
        x = gf.zeros([1 << 20])                       # 4 MiB
        assert gf.memory.allocated() >= base + (4 << 20)
        reserved = gf.memory.reserved()
        del x
        gc.collect()
        assert gf.memory.allocated() == base and gf.memory.reserved() == reserved
        y = gf.zeros([1 << 20])
        assert gf.memory.reserved() == reserved, "the cached block should have been reused"
        assert "peak allocated" in gf.memory.summary()
        del y


def test_out_of_memory_is_a_clear_error():
    with gf.device("cuda"):
        one = gf.zeros([1])
        with pytest.raises(ResourceExhaustedError, match="asked for"):
            # 16 TiB made on the device (gf.zeros of that size would fail first on the host, where
            # gf.fill materialises its value before copying it over)
            gf.broadcast_to(one, [1 << 42])


def test_a_block_used_on_another_stream_waits_for_that_stream():
    import cupy
    from gpuflow.runtime import memory
    with gf.device("cuda"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = gf.zeros([1 << 20])
        side = cupy.cuda.Stream(non_blocking=True)
        gf.memory.record_stream(x, side)
        del x
        gc.collect()
        # the free recorded an event on the side stream without CuPy 14's deprecated ExternalStream
        assert not [w for w in caught if "ExternalStream" in str(w.message)]
        pool = memory.allocator(0)
        assert pool._deferred, "the freed block should wait for the side stream"
        side.synchronize()
        gf.zeros([1])  # an allocation collects the deferred blocks whose streams are done
        assert not pool._deferred
