"""The node kinds the fusion pass makes, and how a Plan runs them on cuda and sim.

A node's `prim` is usually a gpuflow.ops primitive whose impl the backend holds; a generated kernel has no
such impl, so these prims carry their own: `impl_for(backend)` gives the callable a Plan step calls with the
node's input arrays (as backend impls are called), returning its output arrays.
"""
from __future__ import annotations

from . import codegen


class GeneratedKernel:
    """Base of the prims whose kernel is generated source: compiled once per backend, launched per call."""
    control_flow = False
    name = "generated"
    kind = "generated"  # the template, for the kernel-coverage gate: map, reduce or multi_update

    def __init__(self, kernel_name: str, n_outputs: int):
        self.kernel_name, self.n_outputs = kernel_name, n_outputs
        self._source = None

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = self.generate()
        return self._source

    def generate(self) -> str:
        raise NotImplementedError

    def output_specs(self) -> list:
        """[(shape, DType)] of the outputs."""
        raise NotImplementedError

    def launch(self, backend, kernel, arrays, outs):
        raise NotImplementedError

    def impl_for(self, backend):
        kernel = backend.loader.generated(self.kernel_name, self.source, self.kind)
        specs = self.output_specs()

        def run(*arrays, out=None, **_params):  # params: only for reading the IR (ops, kernel)
            arrays = [a if a.flags.c_contiguous else backend.xp.ascontiguousarray(a) for a in arrays]
            outs = list(out) if out is not None else [backend.empty(shape, dtype) for shape, dtype in specs]
            self.launch(backend, kernel, arrays, outs)
            return outs[0] if self.n_outputs == 1 else tuple(outs)
        if backend.on_gpu:
            return run
        from ...backend.cuda._streamed import streamed_call
        return streamed_call(self.kernel_name, run, backend.device,
                             lambda: [(tuple(shape), backend.storage_dtype(dtype)) for shape, dtype in specs])

    def __repr__(self):
        return f"<{self.kind} kernel {self.kernel_name}>"


class FusedKernel(GeneratedKernel):
    """Several elementwise ops (and at most one reduction) of a graph as one generated kernel."""
    name = "fused"

    def __init__(self, program):
        super().__init__(codegen.kernel_name(program), len(program.outputs))
        self.program = program
        self.kind = "map" if program.reduction is None else "reduce"

    def generate(self):
        return codegen.source(self.program, self.kernel_name)

    def output_specs(self):
        return [(self.program.steps[j].shape, self.program.steps[j].dtype) for j in self.program.outputs]

    def launch(self, backend, kernel, arrays, outs):
        grid, block, work = codegen.launch_shape(self.program, backend.max_blocks)
        if work:
            kernel((grid,), (block,), (*arrays, *outs))
