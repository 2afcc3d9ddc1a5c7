"""The cuda backend, written once against `xp` and a kernel launcher.

On a GPU: xp = CuPy, kernels compiled by NVRTC through cupy.RawModule.
On `sim`: xp = NumPy whose arrays live in the sim device's caching allocator (gpuflow/runtime/sim/xp.py),
kernels compiled for the host and run by the simulator.
The impl functions (in this package's modules) never branch on which one they run on,
except through `self.on_gpu` for launch-shape choices that do not change results.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..base import Backend, import_family_modules
from ..numerics import NUMERICS
from . import _streamed, numerics
from ...devices import Device
from ._registry import IMPLS
from .storage import BFLOAT16_STORAGE
from ...runtime.counters import COUNTERS
from ...runtime.loader import KernelLoader

import_family_modules(__name__, __path__)  # each <family>.py fills IMPLS


class CudaBackend(Backend):
    device_checks = numerics  # NaN/Inf checks run as kernels, read at to_numpy (gpuflow/backend/numerics.py)

    def __init__(self, kind: str, index: int = 0):
        super().__init__()
        self.name = f"{kind}:{index}"
        self.on_gpu = kind == "cuda"
        if self.on_gpu:
            import cupy
            self.xp = cupy
            self.device_id = index
            with cupy.cuda.Device(index):
                props = cupy.cuda.runtime.getDeviceProperties(index)
            self.max_blocks = props["multiProcessorCount"] * 32
            from ...runtime import memory
            memory.install(index)
        else:
            from ...runtime.sim import memory, xp
            self.xp = xp.SimArrays(memory.pool(index))
            self.max_blocks = 4  # the simulator pays per thread, not per element: few blocks, long loops
        self.loader = KernelLoader("cuda" if self.on_gpu else "sim")
        self.impls = {name: functools.partial(fn, self) for name, fn in IMPLS.items()}
        if not self.on_gpu:  # sim: ops go to the thread's current stream (CuPy does this itself on a GPU)
            self.device = Device(kind, index)
            self.impls = _streamed.streamed_impls(self.impls, self.device)
        if self.on_gpu and cupy.cuda.runtime.getDeviceCount() > 1:
            # CuPy allocates and launches on its *current* device, which gf.device('cuda:1') does not
            # change: each impl runs inside this backend's device. (One GPU: it is always current.)
            self.impls = {name: functools.partial(_on_device, fn, index) for name, fn in self.impls.items()}

    # ---- memory ---------------------------------------------------------------------
    def storage_dtype(self, dtype) -> np.dtype:
        # bfloat16 buffers hold the raw 16 bits as uint16 (CuPy 13 has no bfloat16, CuPy 14's is minimal and
        # needs NumPy >= 2.1.2); kernels see __nv_bfloat16.
        if self.on_gpu and dtype.name == "bfloat16":
            return BFLOAT16_STORAGE
        return dtype.np

    def empty(self, shape, dtype):
        return self.xp.empty(tuple(shape), self.storage_dtype(dtype))

    def from_numpy(self, array, dtype, copy=True):
        # Always a copy, `copy` aside: device memory is never the host's (on sim, a block of its pool).
        if not self.on_gpu:  # sim: one host copy straight into dtype
            out = self.xp.array(array, dtype.np)
            COUNTERS.upload(out.nbytes)
            _streamed.created(out, self.device, "copy host->device", _streamed.COPY)
            return out
        host = np.asarray(array, dtype=dtype.np, order="C")  # ascontiguousarray would make 0-d arrays 1-d
        return self.upload(host.view(self.storage_dtype(dtype)))

    def upload(self, host: np.ndarray):
        """A device copy of `host` (already in its storage dtype): one host-to-device copy, counted."""
        COUNTERS.upload(host.nbytes)
        if not self.on_gpu:
            return self.xp.array(host)
        with self.xp.cuda.Device(self.device_id):
            return self.xp.asarray(host)

    def full(self, shape, value, dtype):
        from .elementwise import fill
        if not self.on_gpu:
            data = fill(self, shape, value, dtype)
            _streamed.created(data, self.device, "constant fill", _streamed.COMPUTE)
            return data
        with self.xp.cuda.Device(self.device_id):  # CuPy allocates and launches on its current device
            return fill(self, shape, value, dtype)

    def copy(self, data):
        if not self.on_gpu:
            return _streamed.copy(data, self.device, self.xp.copy)
        with self.xp.cuda.Device(self.device_id):  # CuPy copies onto the current device
            return data.copy()

    def to_numpy(self, data, dtype):
        if not self.on_gpu:
            _streamed.host_read(data, self.device)  # work queued on sim streams that writes it runs first
        host = data.get() if self.on_gpu else np.array(data, copy=True)
        COUNTERS.download(host.nbytes)
        if NUMERICS.pending:  # a value reaches the host: report a NaN/Inf a device check found since the last read
            NUMERICS.sync(self)
        return host.view(dtype.np) if host.dtype != dtype.np else host

    # ---- launching --------------------------------------------------------------------
    def kernel(self, file: str, name: str):
        """The kernel `name` (a name expression like 'unary<float, Exp>') from kernels/`file`."""
        return self.loader.get(file, name)

    def grid_for(self, n: int, block: int = 256) -> int:
        """Blocks for a grid-stride loop over n items: enough to fill the GPU, never more than needed."""
        return max(1, min(math.ceil(n / block), self.max_blocks))


def _on_device(fn, index, *args, **params):
    import cupy
    with cupy.cuda.Device(index):
        return fn(*args, **params)
