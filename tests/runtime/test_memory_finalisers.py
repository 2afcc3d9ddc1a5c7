"""Frees that arrive from finalisers while the allocator is busy, on the same thread or another.

CuPy hands a block back through `_Owner.__del__`, which the cycle collector can run at any
allocation, including one the allocator makes while it holds its lock. These tests make that
happen on purpose (a collection inside the driver call, inside event creation, or triggered by a
gc threshold) with real `_Owner`s kept alive only by reference cycles. Each call runs in a thread
with a deadline, so a deadlock fails the test instead of hanging the suite."""
import gc
import random
import sys
import threading
import time

import pytest

from fake_device_memory import make
from gpuflow.runtime import memory

DEADLINE_S = 10


def finishes(fn, timeout=DEADLINE_S):
    """fn()'s result, or a failure if it has not returned after `timeout` seconds (it is left
    hanging in a daemon thread)."""
    result, errors = [], []

    def target():
        try:
            result.append(fn())
        except BaseException as error:  # noqa: BLE001 - re-raised on the test's thread
            errors.append(error)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"deadlock: the call had not returned after {timeout} s"
    if errors:
        raise errors[0]
    return result[0]


def owned_by_garbage(pool, blocks):
    """Give each block to a real _Owner that only a reference cycle keeps alive: the blocks come
    back only when the cycle collector runs, and then from _Owner.__del__."""
    for block in blocks:
        cycle = [memory._Owner(pool, block)]
        cycle.append(cycle)


@pytest.fixture
def gc_settings():
    """Restores the collector's thresholds and on/off state however the test changes them."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


@pytest.fixture
def collections_inside_malloc():
    """How many objects collections freed while CachingAllocator.malloc was on the collecting
    thread's stack: proof that the test really collected inside the locked region."""
    freed = []

    def on_gc(phase, info):
        if phase == "stop" and info["collected"]:
            frame = sys._getframe()
            while frame is not None:
                if frame.f_code is memory.CachingAllocator.malloc.__code__:
                    freed.append(info["collected"])
                    return
                frame = frame.f_back
    gc.callbacks.append(on_gc)
    yield freed
    gc.callbacks.remove(on_gc)


def test_a_collection_inside_the_driver_call_frees_blocks_without_deadlock(collections_inside_malloc):
    pool, driver, _ = make()
    blocks = [pool.malloc(1024) for _ in range(8)]
    owned_by_garbage(pool, blocks)
    driver.on_malloc = gc.collect     # as a real driver binding may, by allocating Python objects
    big = finishes(lambda: pool.malloc(4 << 20))
    assert sum(collections_inside_malloc) >= 8
    # The frees parked during malloc were settled before it returned: the numbers are exact.
    assert pool.allocated == big.size and pool.cached_blocks() == 8 and pool._lock.parked() == 0
    assert finishes(lambda: pool.malloc(1024)).ptr in {b.ptr for b in blocks}


def test_a_threshold_collection_inside_malloc_frees_blocks_without_deadlock(gc_settings, collections_inside_malloc):
    pool, driver, _ = make()
    blocks = [pool.malloc(1024) for _ in range(8)]
    gc.disable()                      # keep the cycles young and uncollected until malloc holds the lock
    keep = []
    for block in blocks:
        cycle = [memory._Owner(pool, block), keep]
        cycle.append(cycle)
        keep.append(cycle)
    del cycle                         # only `keep` holds them now

    def drop_and_arm():
        # Inside malloc's locked region: the cycles become garbage, and the very next Python
        # allocation (malloc building its Block) starts a collection by itself.
        keep.clear()
        gc.set_threshold(1, 1, 1)
        gc.enable()
    driver.on_malloc = drop_and_arm
    big = finishes(lambda: pool.malloc(4 << 20))
    assert sum(collections_inside_malloc) >= 8
    assert pool.allocated == big.size and pool.cached_blocks() == 8 and pool._lock.parked() == 0


def test_a_collection_while_free_records_its_events_does_not_deadlock():
    # Making a CUDA event allocates Python objects; a collection there frees more blocks.
    pool, _, events = make(on_event=gc.collect)
    used_on_two_streams = pool.malloc(1024, stream=1)
    pool.record_stream(used_on_two_streams, stream=2)
    owned_by_garbage(pool, [pool.malloc(1024, stream=1) for _ in range(8)])
    finishes(lambda: pool.free(used_on_two_streams))
    assert pool.allocated == 0 and pool.cached_blocks() == 9 and len(events) == 1
    assert pool._deferred == [used_on_two_streams], "still waits for stream 2"


def test_threads_freeing_through_finalisers_lose_no_block(gc_settings):
    pool, driver, events = make(capacity=1 << 30)
    gc.set_threshold(20, 5, 5)        # frequent collections, so finalisers run inside locked regions
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)       # and frequent thread switches, so the lock is contended

    errors = []

    def worker(seed):
        try:
            work(random.Random(seed))
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread
            errors.append(error)

    def work(rng):
        for step in range(1500):
            if step % 100 == 0:
                for event in list(events):    # stream 2 catches up now and then
                    event.done = True
            block = pool.malloc(rng.choice((512, 3000, 70_000, 3 << 20)), stream=rng.randrange(2))
            if rng.random() < 0.2:
                pool.record_stream(block, stream=2)
            how = rng.random()
            if how < 0.4:
                owned_by_garbage(pool, [block])           # freed by some later collection, on any thread
            elif how < 0.7:
                memory._Owner(pool, block)                # freed at once, by refcount, from __del__
            else:
                pool.free(block)
    threads = [threading.Thread(target=worker, args=(seed,), daemon=True) for seed in range(4)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "deadlock: a worker had not finished after 60 s"
    finally:
        sys.setswitchinterval(switch)
    if errors:
        raise errors[0]
    gc.collect()
    # No free may be stranded in the parking queue once every thread has left the allocator.
    assert pool._lock.parked() == 0
    assert pool.allocated == 0
    for event in list(events):
        event.done = True
    pool.empty_cache()                # settles the blocks that waited on stream 2, then frees all
    assert pool.reserved == 0 and driver.used == 0 and not driver.sizes and pool.cached_blocks() == 0
