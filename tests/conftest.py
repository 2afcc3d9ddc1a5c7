"""Test devices: every op test runs on cpu and sim; cuda tests are marked `gpu` and skipped without one."""
from __future__ import annotations

import os

import pytest

import gpuflow as gf
from gpuflow import devices

DEVICES = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]


def pytest_addoption(parser):
    parser.addoption("--kernel-coverage", action="store_true",
                     help="after the suite, check every shipped kernel ran on sim (tests/test_kernel_coverage.py)")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="no usable CUDA GPU here")
    if not devices.cuda_available():
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
    # The kernel-coverage gate reads what the whole run launched: it must come last.
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_kernel_coverage.py"))


def pytest_sessionfinish(session):
    if os.environ.get("GPUFLOW_UPDATE_INSTANTIATIONS") == "1":
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
