"""The caching allocator's policy, with a fake driver: reuse, rounding, stats, OOM retry and message,
and cross-stream safety. The real CuPy wiring is exercised by the gpu tests."""
import pytest

from fake_device_memory import make
from gpuflow.errors import ResourceExhaustedError
from gpuflow.runtime.memory import round_size


def test_sizes_round_up_to_reusable_classes():
    assert round_size(1) == 512 and round_size(513) == 1024
    assert round_size((1 << 20) + 1) == 2 << 20 and round_size(5 << 20) == 6 << 20


def test_freed_blocks_are_reused_without_the_driver():
    pool, driver, _ = make()
    a = pool.malloc(1000)
    pool.free(a)
    b = pool.malloc(900)
    assert b.ptr == a.ptr and len(driver.sizes) == 1


def test_stats_track_allocated_reserved_and_peak():
    pool, _, _ = make()
    a, b = pool.malloc(1024), pool.malloc(2048)
    assert pool.allocated == 3072 and pool.reserved == 3072 and pool.peak == 3072
    pool.free(a)
    assert pool.allocated == 2048 and pool.reserved == 3072 and pool.largest_free_block() == 1024
    pool.reset_peak()
    assert pool.peak == 2048
    pool.empty_cache()
    assert pool.reserved == 2048
    assert "peak allocated" in pool.summary()
    pool.free(b)


def test_a_much_larger_cached_block_is_not_wasted_on_a_small_request():
    pool, driver, _ = make()
    big = pool.malloc(8 << 20)
    pool.free(big)
    small = pool.malloc(1000)
    assert small.ptr != big.ptr and len(driver.sizes) == 2


def test_out_of_memory_frees_the_cache_and_retries_once():
    pool, driver, _ = make(capacity=4 << 20)
    a = pool.malloc(2 << 20)
    pool.free(a)                      # cached: the driver still counts it
    b = pool.malloc(4 << 20)          # needs the cached block's memory back
    assert pool.num_alloc_retries == 1 and b.size == 4 << 20


def test_out_of_memory_error_says_what_was_asked_allocated_reserved_and_largest_free():
    pool, _, _ = make(capacity=4 << 20)
    held = pool.malloc(2 << 20)
    with pytest.raises(ResourceExhaustedError, match=r"asked for 6.00 MiB; 2.00 MiB allocated.*2.00 MiB reserved.*"
                                                     r"largest free cached block 0 B"):
        pool.malloc(6 << 20)
    pool.free(held)


def test_a_block_used_on_another_stream_waits_for_that_stream():
    pool, _, events = make()
    a = pool.malloc(1024, stream=1)
    pool.record_stream(a, stream=2)
    pool.free(a)
    b = pool.malloc(1024, stream=1)
    assert b.ptr != a.ptr, "reused while stream 2 may still read it"
    events[0].done = True
    pool.free(b)
    c, d = pool.malloc(1024, stream=1), pool.malloc(1024, stream=1)
    assert a.ptr in (c.ptr, d.ptr), "once stream 2 is done the block is reused"


def test_streams_keep_separate_free_lists():
    pool, _, _ = make()
    a = pool.malloc(1024, stream=1)
    pool.free(a)
    b = pool.malloc(1024, stream=2)
    assert b.ptr != a.ptr
