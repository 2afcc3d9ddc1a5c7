"""The `sim` device: run gpuflow's CUDA kernels on the CPU, API-compatible with cupy.RawModule.

    mod = SimModule(code, options=("-DFOO",), name_expressions=("relu_kernel<float>",))
    mod.get_function("relu_kernel<float>")(grid, block, (x, y, np.int64(n)))

See docs/sim.md for what is modelled and checked.
"""
from __future__ import annotations

import ctypes

from gpuflow.errors import KernelError
from gpuflow.runtime.sim import compiler, launcher

__all__ = ["SimModule", "SimKernel", "SimFunction"]


class SimFunction:
    """One kernel of a module, callable like cupy's RawKernel: ``f(grid, block, args, shared_mem=0)``."""

    def __init__(self, lib: compiler.Library, index: int, name: str):
        self._lib, self._index, self.name = lib, index, name
        sig = getattr(lib.dll, f"gfsim_sig_{index}")
        sig.restype = ctypes.c_char_p
        self.params = launcher.parse_signature(sig().decode())

    def __call__(self, grid, block, args, shared_mem: int = 0, **kwargs) -> None:
        kwargs.pop("stream", None)  # accepted for cupy compatibility; gf.cuda.stream(...) routes sim launches
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
        launcher.launch(self._lib, self._index, self.name, self.params, grid, block, args, shared_mem)

    def check(self, grid, block, args, shared_mem: int = 0) -> None:
        """Every check a launch makes, without running it (a launch queued on a stream is checked when issued)."""
        launcher.marshal(self.name, self.params, grid, block, args, shared_mem)

    def launch(self, grid, block, args, shared_mem: int = 0, changed: list | None = None) -> None:
        """As a call, also listing in `changed` the array arguments whose bytes the kernel changed."""
        launcher.launch(self._lib, self._index, self.name, self.params, grid, block, args, shared_mem, changed)

    def __repr__(self) -> str:
        return f"<SimFunction {self.name}({', '.join(p.ctype for p in self.params)})>"


class SimModule:
    """Like cupy.RawModule: compiled once (cached in memory and under $GPUFLOW_CACHE_DIR/sim)."""

    def __init__(self, code: str, options: tuple = (), name_expressions: tuple = (), name: str = "<module>"):
        self.code, self.options, self.name = code, tuple(options), name
        self.name_expressions = tuple(name_expressions)
        self._lib = compiler.build(code, self.options, self.name_expressions, name)
        self._functions: dict[str, SimFunction] = {}

    def get_function(self, name: str) -> SimFunction:
        f = self._functions.get(name)
        if f is None:
            names = self._lib.names
            if name not in names:
                raise KernelError(f"module {self.name}: no kernel {name!r}; it has {names} (templates must be "
                                  f"listed in name_expressions, plain kernels must be extern \"C\")")
            f = self._functions[name] = SimFunction(self._lib, names.index(name), name)
        return f


class SimKernel:
    """Like cupy.RawKernel: one kernel, compiled on first call."""

    def __init__(self, code: str, name: str, options: tuple = ()):
        self.code, self.name, self.options = code, name, tuple(options)
        self._fn: SimFunction | None = None

    @property
    def function(self) -> SimFunction:
        if self._fn is None:
            # As a name expression the name works for templates and extern "C" kernels alike.
            mod = SimModule(self.code, self.options, (self.name,), name=self.name)
            self._fn = mod.get_function(self.name)
        return self._fn

    def __call__(self, grid, block, args, shared_mem: int = 0, **kwargs) -> None:
        self.function(grid, block, args, shared_mem, **kwargs)
