"""Test devices: every op test runs on cpu and sim; cuda tests are marked `gpu` and skipped without one."""
from __future__ import annotations

import os

import numpy as np
import pytest

import gpuflow as gf
from gpuflow import devices

DEVICES = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]

# The one switch that refreshes kernels/instantiations.txt: `GPUFLOW_UPDATE_INSTANTIATIONS=1 python -m pytest`.
UPDATE_INSTANTIATIONS = "GPUFLOW_UPDATE_INSTANTIATIONS"


def _updating_instantiations() -> bool:
    return os.environ.get(UPDATE_INSTANTIATIONS) == "1"


def pytest_addoption(parser):
    parser.addoption("--kernel-coverage", action="store_true",
                     help="after the suite, check every shipped kernel ran on sim (tests/test_kernel_coverage.py)")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="no usable CUDA GPU here")
    if not devices.cuda_available():
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
    if _updating_instantiations():
        # The census stubs out the kernel loader's compile step, which these tests exercise.
        census_skip = pytest.mark.skip(reason=f"{UPDATE_INSTANTIATIONS}=1 stubs the kernel loader's compile step")
        for item in items:
            if item.nodeid.startswith(("tests/runtime/test_cubin_cache.py", "tests/sim/")):
                item.add_marker(census_skip)
    # The kernel-coverage gate reads what the whole run launched: it must come last.
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_kernel_coverage.py"))


def pytest_configure(config):
    if _updating_instantiations():
        _census_mode()


def _census_mode():
    """List every kernel instantiation the suite asks for, without compiling any.

    Every sim impl still runs (so it requests exactly the kernels it would), but its launches do
    nothing and its result is replaced by the cpu backend's, so each test goes on down the same
    path. `GPUFLOW_UPDATE_INSTANTIATIONS=1 python -m pytest` then adds what was asked for to
    kernels/instantiations.txt in minutes instead of the hours separate compiles would take
    (tests/sim and the compile-cache tests, which need real compiles, are skipped).
    """
    from gpuflow.backend import cuda as cuda_backend
    from gpuflow.backend.numpy import IMPLS as REFERENCE
    from gpuflow.runtime import loader

    loader.KernelLoader._compile = lambda self, file, name: (lambda grid, block, args, shared_mem=0: None)
    original_init = cuda_backend.CudaBackend.__init__

    def init(self, kind, index=0):
        original_init(self, kind, index)
        for name, fn in list(self.impls.items()):
            if name in REFERENCE:
                self.impls[name] = _shadowed(fn, REFERENCE[name])
    cuda_backend.CudaBackend.__init__ = init

    # zeros/ones/fill reach the fill kernel through backend.full, not through an impl.
    original_full = cuda_backend.CudaBackend.full

    def full(self, shape, value, dtype):
        original_full(self, shape, value, dtype)
        return np.full(shape, value, dtype=self.storage_dtype(dtype))
    cuda_backend.CudaBackend.full = full


def _shadowed(fn, reference):
    def impl(*args, **params):
        try:
            fn(*args, **params)
        except Exception:  # noqa: BLE001 - census only: the reference decides what the test sees
            pass
        out = reference(*args, **params)
        # NumPy gives some 0-d results as scalars, which the sim streams cannot track once they are in use
        # (a fit on sim, then a 0-d op): as a sim impl, return arrays.
        return np.asarray(out) if isinstance(out, np.generic) else out
    return impl


def pytest_sessionfinish(session):
    if _updating_instantiations():
        from gpuflow.kernels import instantiations, write_instantiations
        from gpuflow.runtime.loader import launched
        known = {(f, n) for f, names in instantiations().items() for n in names}
        write_instantiations(known | launched["sim"])


@pytest.fixture(params=DEVICES)
def device(request):
    """Runs the test body under `gf.device(<param>)` and hands it the device name."""
    with gf.device(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _seed():
    gf.random.set_seed(1234)
    yield


os.environ.setdefault("GPUFLOW_SIM_SEED", "0")
