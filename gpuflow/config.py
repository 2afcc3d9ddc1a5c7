"""`gf.config`: which devices exist (tf.config.list_physical_devices)."""
from __future__ import annotations

from . import devices as _device


class PhysicalDevice:
    """A device found on this machine: `name` ('/physical_device:GPU:0') and `device_type` ('CPU', 'GPU')."""
    def __init__(self, name, device_type):
        self.name, self.device_type = name, device_type

    def __repr__(self):
        return f"PhysicalDevice(name={self.name!r}, device_type={self.device_type!r})"


def list_physical_devices(device_type=None):
    """The devices of `device_type` ('CPU', 'GPU'; None: all) on this machine: the CPU and every
        usable CUDA GPU. `sim` is not listed: it is a simulator, not hardware.
    """
    found = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    if _device.cuda_available():
        import cupy
        found += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                  for i in range(cupy.cuda.runtime.getDeviceCount())]
    return [d for d in found if device_type is None or d.device_type == str(device_type).upper()]
