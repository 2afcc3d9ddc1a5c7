"""A lock that code which must never wait (finalisers) hands its work to instead of taking it."""
from __future__ import annotations

import threading


class ParkingLock:
    """A non-reentrant lock, plus a queue of work parked by callers that could not take it.

    `with lock:` takes the lock, waiting if need be. `lock.run_or_park(item)` never waits: it
    parks `item`, then runs `settle(item)` itself if the lock is free. Otherwise the holder settles
    it: a holder settles everything parked right after taking the lock, and again right after
    releasing it (taking it back without waiting). No item is stranded: whoever parks retries the
    lock once, and every holder looks at the queue after it lets go, so whichever of the two comes
    second sees the item.

    Why it exists: a finaliser can run on any thread at any allocation, including on the thread
    that holds the lock. Waiting there is a deadlock; a reentrant lock would instead let the
    finaliser change state the holder is in the middle of changing.
    """

    def __init__(self, settle):
        self._lock = threading.Lock()
        self._settle = settle
        # list.append and list.pop are atomic under the GIL, so parking needs no lock; only
        # holders pop, so an item is settled once.
        self._parked: list = []

    def __enter__(self):
        self._lock.acquire()
        try:
            self._settle_parked()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc_info):
        self._lock.release()
        self._flush()

    def run_or_park(self, item) -> None:
        self._parked.append(item)
        self._flush()

    def parked(self) -> int:
        return len(self._parked)

    def _flush(self):
        # Settle what was parked while the lock was held, unless it is held again (then that holder will).
        while self._parked and self._lock.acquire(blocking=False):
            try:
                self._settle_parked()
            finally:
                self._lock.release()

    def _settle_parked(self):
        # A finaliser run by `settle` itself parks more work, on this thread; this loop picks it up.
        while self._parked:
            self._settle(self._parked.pop())
