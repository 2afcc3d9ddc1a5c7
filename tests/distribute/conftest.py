"""Fixtures of the distribute tests: the CPU (and sim) split into logical devices, free localhost ports."""

import pytest

import gpuflow as gf
from gpuflow import config as gf_config


@pytest.fixture
def two_cpus():
    """cpu:0 and cpu:1 as logical devices, as in TF: set_logical_device_configuration(CPU, [config] * 2)."""
    before = dict(gf_config._logical_counts)
    gf.config.set_logical_device_configuration(gf.config.list_physical_devices("CPU")[0],
                                               [gf.config.LogicalDeviceConfiguration()] * 2)
    yield ["cpu:0", "cpu:1"]
    gf_config._logical_counts.clear()
    gf_config._logical_counts.update(before)


@pytest.fixture
def three_cpus():
    before = dict(gf_config._logical_counts)
    gf.config.set_logical_device_configuration(gf.config.list_physical_devices("CPU")[0],
                                               [gf.config.LogicalDeviceConfiguration()] * 3)
    yield ["cpu:0", "cpu:1", "cpu:2"]
    gf_config._logical_counts.clear()
    gf_config._logical_counts.update(before)


