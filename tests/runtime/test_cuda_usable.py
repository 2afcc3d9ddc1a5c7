"""CuPy installed but no driver or no GPU (this CI-like machine): gpuflow falls back to cpu and says why."""
import logging

import pytest

from gpuflow import devices

cupy = pytest.importorskip("cupy", reason="CuPy is not installed: nothing to fall back from")


def _driver_error():
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - whatever CuPy raises without a driver
        return e
    return None


pytestmark = pytest.mark.skipif(_driver_error() is None, reason="a CUDA driver answers here")


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_cupy_without_a_driver_is_not_a_usable_gpu(monkeypatch):
    monkeypatch.delenv("GPUFLOW_DEVICE", raising=False)
    devices.cuda_available.cache_clear()
    devices.default_device.cache_clear()
    seen = _Lines()
    devices.log.addHandler(seen)
    monkeypatch.setattr(devices.log, "level", logging.INFO)
    try:
        assert devices.cuda_available() is False
        assert devices.default_device() == devices.Device("cpu", 0)
        assert any("default device: cpu:0 (no usable GPU" in line for line in seen.lines), seen.lines
        with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
            with devices.device("cuda"):
                pass
    finally:
        devices.log.removeHandler(seen)
        devices.cuda_available.cache_clear()
        devices.default_device.cache_clear()
