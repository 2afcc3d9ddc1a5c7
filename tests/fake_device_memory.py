"""A pretend GPU driver for the caching allocator's tests: raw malloc/free over a fixed capacity and
events whose completion the test decides. Policy and locking are tested against it on the CPU."""
import threading

from gpuflow.runtime.memory import CachingAllocator


class FakeDriver:
    def __init__(self, capacity):
        self.capacity, self.used, self.next, self.sizes = capacity, 0, 4096, {}
        self.on_malloc = None        # called at the start of every raw malloc (to run code there)

    def malloc(self, size):
        if self.on_malloc is not None:
            self.on_malloc()
        if self.used + size > self.capacity:
            raise MemoryError
        self.used += size
        self.next += size
        self.sizes[self.next] = size
        return self.next

    def free(self, ptr):
        self.used -= self.sizes.pop(ptr)


class FakeEvent:
    def __init__(self):
        self.done = False

    def query(self):
        return self.done


def make(capacity=64 << 20, on_event=None):
    """(allocator, driver, events made so far); `on_event` runs inside every make_event."""
    driver = FakeDriver(capacity)
    events, lock = [], threading.Lock()

    def make_event(stream):
        if on_event is not None:
            on_event()
        event = FakeEvent()
        with lock:
            events.append(event)
        return event
    return CachingAllocator(driver.malloc, driver.free, make_event), driver, events
