"""Fixtures of the distribute tests: the CPU (and sim) split into logical devices, free localhost ports."""

import pytest

import gpuflow as gf
from gpuflow import config as gf_config


def _logical(kind, n):
    """`kind`:0 ... `kind`:n-1 as logical devices, as in TF: set_logical_device_configuration(device, [config] * n);
    the configuration before is put back afterwards."""
    before = dict(gf_config._logical_counts)
    gf.config.set_logical_device_configuration(gf.config.list_physical_devices(kind.upper())[0],
                                               [gf.config.LogicalDeviceConfiguration()] * n)
    yield [f"{kind}:{i}" for i in range(n)]
    gf_config._logical_counts.clear()
    gf_config._logical_counts.update(before)


@pytest.fixture
def two_cpus():
    yield from _logical("cpu", 2)


@pytest.fixture
def three_cpus():
    yield from _logical("cpu", 3)


@pytest.fixture
def two_sims():
    yield from _logical("sim", 2)
