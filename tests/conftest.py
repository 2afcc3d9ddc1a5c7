"""Test devices: every op test runs on cpu and sim; cuda tests are marked `gpu` and skipped without one."""
from __future__ import annotations

import os

import pytest

import gpuflow as gf
from gpuflow import devices

DEVICES = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="no usable CUDA GPU here")
    if not devices.cuda_available():
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


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
