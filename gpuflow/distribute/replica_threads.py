"""Running one function on several replicas, as TF's MirroredStrategy does: one thread per replica, each
with its own device scope and ReplicaContext, taking turns.

Only one replica thread runs at a time, in replica order: replica 0 runs until it reaches a merge_call
(an all_reduce, say) or returns, then replica 1, and so on. When every replica waits in a merge_call, the
calling thread runs the merge once, in cross-replica context, with the replicas' arguments grouped as
PerReplica values, and hands each replica the result. Taking turns makes a run deterministic (the same
op order every time) and means no two replicas' ops ever interleave. A lone replica runs in the calling
thread, with no threads at all.
"""
from __future__ import annotations

import threading

from .. import devices as _device
from . import context
from .replica_context import ReplicaContext
from .values import regroup, select_replica


class _Aborted(BaseException):
    """Raised inside a waiting replica when another one failed: unwinds it without running more of it."""


class _Replica(threading.Thread):
    def __init__(self, runner, index, fn, args, kwargs):
        super().__init__(daemon=True, name=f"gpuflow-replica-{index}")
        self.runner, self.index, self.fn, self.args, self.kwargs = runner, index, fn, args, kwargs
        self.turn, self.paused = threading.Event(), threading.Event()
        self.done, self.result, self.error = False, None, None
        self.merge_request = self.merge_result = None

    def run(self):
        try:
            self.wait_turn()
            strategy = self.runner.strategy
            ctx = ReplicaContext(strategy, strategy.extended._global_replica_id(self.index), self.index, self.runner)
            context.set_replica(ctx)
            with _device.device(strategy.extended._local_devices[self.index]):
                self.result = self.fn(*self.args, **self.kwargs)
        except _Aborted:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread, which raises it
            self.error = e
        finally:
            context.set_replica(None)
            self.done = True
            self.paused.set()

    def wait_turn(self):
        self.turn.wait()
        self.turn.clear()
        if self.runner.aborted:
            raise _Aborted

    def take_turn(self):
        """(calling thread) Let this replica run until it waits in a merge_call or ends."""
        self.turn.set()
        self.paused.wait()
        self.paused.clear()


class ReplicaThreads:
    def __init__(self, strategy, fn, calls):
        self.strategy, self.aborted = strategy, False
        self.replicas = [_Replica(self, i, fn, args, kwargs) for i, (args, kwargs) in enumerate(calls)]

    def merge(self, index, merge_fn, args, kwargs):
        """(replica thread) Wait here until every replica has asked, then return the merge's result."""
        replica = self.replicas[index]
        replica.merge_request = (merge_fn, args, kwargs)
        replica.paused.set()
        replica.wait_turn()
        result, replica.merge_result = replica.merge_result, None
        return select_replica(index, result)

    def run(self) -> list:
        for replica in self.replicas:
            replica.start()
        try:
            while True:
                for replica in self.replicas:
                    if not replica.done:
                        replica.take_turn()
                failed = next((r for r in self.replicas if r.error is not None), None)
                if failed is not None:
                    raise failed.error
                waiting = [r for r in self.replicas if not r.done]
                if not waiting:
                    return [r.result for r in self.replicas]
                self._merge(waiting)
        finally:
            self._stop()

    def _merge(self, waiting):
        if len(waiting) != len(self.replicas):
            finished = [r.index for r in self.replicas if r.done]
            raise RuntimeError(f"replica(s) {finished} returned while replica(s) {[r.index for r in waiting]} wait in "
                               f"a merge_call (all_reduce, all_gather): every replica must make the same collective "
                               f"calls, in the same order")
        requests = [r.merge_request for r in self.replicas]
        codes = {getattr(fn, "__code__", fn) for fn, _, _ in requests}
        if len(codes) > 1:
            raise RuntimeError("the replicas wait in different merge_calls: every replica must make the same "
                               "collective calls, in the same order")
        merge_fn = requests[0][0]
        args = regroup([list(a) for _, a, _ in requests])
        kwargs = regroup([k for _, _, k in requests])
        stack = context.scope_stack()
        stack.append(self.strategy)  # the merge runs in cross-replica context
        try:
            result = merge_fn(self.strategy, *args, **kwargs)
        finally:
            stack.pop()
        for r in self.replicas:
            r.merge_request, r.merge_result = None, result

    def _stop(self):
        """Unwind replicas still waiting (after an error) and wait for every thread to end."""
        if any(not r.done for r in self.replicas):
            self.aborted = True
            for r in self.replicas:
                if not r.done:
                    r.turn.set()
        for r in self.replicas:
            r.join()


def run_replicas(strategy, fn, calls) -> list:
    """fn(*args, **kwargs) for each (args, kwargs) in `calls`, replica i on local device i."""
    if len(calls) == 1:
        args, kwargs = calls[0]
        ctx = ReplicaContext(strategy, strategy.extended._global_replica_id(0), 0, None)
        previous = context.set_replica(ctx)
        try:
            with _device.device(strategy.extended._local_devices[0]):
                return [fn(*args, **kwargs)]
        finally:
            context.set_replica(previous)
    return ReplicaThreads(strategy, fn, calls).run()
