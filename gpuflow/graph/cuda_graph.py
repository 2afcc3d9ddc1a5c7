"""CUDA Graph replay of a planned step (cuda only; cpu and sim run the same plan without capture).

After the memory plan serves a call from its arena (so every buffer has a fixed address), the next call is
captured (CuPy `Stream.begin_capture` / `end_capture`) on a capture stream, and later calls launch the
captured graph: one host call for the whole step. What a capture cannot hold is done around it:

- inputs: copied into static input buffers the capture owns, just before the launch;
- host feeds (the optimizer's learning rate and step scalars): computed on the host and uploaded into static
  buffers before the launch;
- variables: their buffers must be the ones captured, and nobody else may hold them (as the executor's
  in-place updates require); an assigned value that is not written in place is copied into the variable's
  own buffer inside the graph, so a replay leaves the variables where the graph reads them;
- outputs: two captures, whose outputs live in the two regions the arena keeps for every value that
  outlives a call; a call replays the capture whose previous outputs nobody holds any more (fit keeps the
  last step's logs while the next step runs).

Anything else falls back to the uncaptured plan for that call; a capture that fails (a host sync, an
allocation outside the arena, cuBLAS refusing) is logged once with the reason and never tried again.
"""
from __future__ import annotations

import logging
import sys

import numpy

from ..runtime.counters import COUNTERS
from .ir import ASSIGN, CALLBACK, FEED, PRINT, READ

log = logging.getLogger("gpuflow")


def capturable(graph) -> str | None:
    """Why `graph` cannot be captured, or None."""
    for node in graph.nodes:
        if node.prim is PRINT or node.prim is CALLBACK:
            return f"it calls the host ({node.prim.name}) on every call"
        if getattr(node.prim, "control_flow", False):
            return f"it has a data-dependent {node.prim.name}"
    return None


class GraphReplay:
    """The captures of one Plan on cuda, made once its memory plan is settled."""

    def __init__(self, plan):
        self.plan = plan
        self.captures = [None, None]
        self.failed = capturable(plan.graph)
        self.variables = [v for v in plan.variables]
        self.var_arrays = None

    def ready(self) -> bool:
        memory = self.plan.memory
        return self.failed is None and memory is not None and memory.arena is not None and memory.replays > 0

    def run(self, arrays):
        """The outputs of one call, from a captured graph; None when this call cannot replay one."""
        if not self._variables_unchanged():
            self.captures = [None, None]  # a variable got another buffer (an assign outside the step)
            self.var_arrays = None
        for parity in (0, 1):
            capture = self.captures[parity]
            if capture is None:
                capture = self._capture(parity, arrays)
                if capture is None:
                    return None
                return capture.outputs_now()  # the capture ran the step (its first launch)
            if capture.outputs_free():
                return capture.replay(arrays)
        return None  # both captures' outputs are still held: replay without capture

    def _variables_unchanged(self) -> bool:
        if self.var_arrays is None:
            return True
        for var, data in zip(self.variables, self.var_arrays):
            # the variable's, this list's and getrefcount's own references: nobody else holds the buffer
            if var._data is not data or sys.getrefcount(data) > 3:
                return False
        return True

    def _capture(self, parity, arrays):
        import cupy
        plan = self.plan
        arena = plan.memory.arena
        stream = cupy.cuda.Stream(non_blocking=True)
        capture = _Capture(plan, stream)
        if not arena.begin():  # a buffer of the previous call's inside is still alive: not now
            return None
        capture.prepare(arrays)
        before = COUNTERS.pool_allocs
        arena.force_region = parity
        allocator = _allocator(plan)
        previous = allocator.set_hook(arena)
        try:
            with stream:
                stream.begin_capture()
                try:
                    capture.outputs = capture.run_into_graph()
                finally:
                    graph = stream.end_capture()
        except Exception as e:  # noqa: BLE001 - any refusal of the capture: replay without it, and say why once
            self._fail(f"{type(e).__name__}: {e}")
            return None
        finally:
            allocator.set_hook(previous)
            arena.force_region = None
        if arena.broken or COUNTERS.pool_allocs != before:
            self._fail("it allocated outside its memory plan while being captured")
            return None
        capture.graph = graph
        self.captures[parity] = capture
        self.var_arrays = [v._data for v in self.variables]
        graph.launch(stream)  # the call that captured runs the step now
        cupy.cuda.get_current_stream().wait_event(stream.record())
        return capture

    def _fail(self, why):
        self.failed = why
        self.captures = [None, None]
        log.warning("gf.function %s: no CUDA Graph (%s); its planned kernels replay on the stream instead",
                    self.plan.graph.name, why)


def _allocator(plan):
    from .memory_plan import allocator_of
    return allocator_of(plan.memory.device)


class _Capture:
    """One captured graph: its static inputs and feeds, and the output arrays it writes."""

    def __init__(self, plan, stream):
        self.plan, self.stream = plan, stream
        self.static_inputs = None
        self.feeds = {}  # id of a FEED node → (node, its static buffer)
        self.outputs = None
        self.graph = None

    def prepare(self, arrays):
        backend = self.plan.graph.nodes[0].device.backend if self.plan.graph.nodes else None
        self.static_inputs = [a.copy() for a in arrays]
        for node in self.plan.graph.nodes:
            if node.prim is FEED:
                self.feeds[id(node)] = (node, backend.from_numpy(node.params["fn"](), node.params["dtype"]))

    def run_into_graph(self):
        """The plan's steps, under capture: static inputs and feeds, assigns copied into the variables."""
        return self.plan._run(self.static_inputs, effect=self._effect)

    def _effect(self, plan, node, env, ins, outs):
        if node.prim is FEED:
            env[outs[0]] = self.feeds[id(node)][1]
        elif node.prim is ASSIGN:
            var = plan.variables[node.params["var"]]
            value = env[ins[0]]
            if value is not var._data:
                var._data[...] = value  # in the variable's own buffer: the graph reads it there next time
        elif node.prim is READ:
            env[outs[0]] = plan.variables[node.params["var"]]._data
        else:
            raise RuntimeError(f"{node.prim.name} cannot be captured")

    def outputs_free(self) -> bool:
        # this capture's list, getrefcount's argument: nobody else holds last time's outputs
        return all(sys.getrefcount(a) <= 2 for a in self.outputs)

    def outputs_now(self):
        return list(self.outputs)

    def replay(self, arrays):
        import cupy
        for static, a in zip(self.static_inputs, arrays):
            if static is not a:
                static[...] = a
        for node, buffer in self.feeds.values():
            buffer.set(numpy.asarray(node.params["fn"](), dtype=buffer.dtype))  # the host's value, then the launch
        current = cupy.cuda.get_current_stream()
        self.stream.wait_event(current.record())
        self.graph.launch(self.stream)
        current.wait_event(self.stream.record())
        COUNTERS.launches += 1  # one graph launch
        return list(self.outputs)
