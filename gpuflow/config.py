"""`gf.config`: which devices exist (tf.config.list_physical_devices); `experimental`: op determinism."""
from __future__ import annotations

from . import config_experimental as experimental  # noqa: F401
from . import devices as _device


class PhysicalDevice:
    def __init__(self, name, device_type):
        self.name, self.device_type = name, device_type

    def __repr__(self):
        return f"PhysicalDevice(name={self.name!r}, device_type={self.device_type!r})"


def list_physical_devices(device_type=None):
    found = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    if _device.cuda_available():
        import cupy
        found += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                  for i in range(cupy.cuda.runtime.getDeviceCount())]
    return [d for d in found if device_type is None or d.device_type == str(device_type).upper()]


def run_functions_eagerly(run_eagerly: bool) -> None:
    """tf.config.run_functions_eagerly: gf.function calls the Python function directly (for debugging)."""
    from .graph.function import run_functions_eagerly as set_eager
    set_eager(run_eagerly)


def functions_run_eagerly() -> bool:
    from .graph.function import functions_run_eagerly as eager
    return eager()
