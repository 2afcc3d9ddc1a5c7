"""`gf.config`: which devices exist (tf.config.list_physical_devices) and how they are split into logical ones.

As in TensorFlow, `set_logical_device_configuration(physical, [LogicalDeviceConfiguration()] * n)` splits
one physical device into n logical devices. gpuflow splits the CPU (logical devices cpu:0 ... cpu:n-1) and the
sim device (sim:0 ... sim:n-1); each logical device has its own backend instance, so a MirroredStrategy over
them runs real replicas on one machine without a GPU. A GPU is not split: each physical GPU is one device.
`gf.config.experimental` holds op determinism; `run_functions_eagerly` switches gf.function off for debugging.
"""
from __future__ import annotations

from . import config_experimental as experimental  # noqa: F401
from . import config_optimizer as optimizer  # noqa: F401
from . import devices as _device


class PhysicalDevice:
    """A device found on this machine: `name` ('/physical_device:GPU:0') and `device_type` ('CPU', 'GPU')."""
    def __init__(self, name, device_type):
        self.name, self.device_type = name, device_type

    def __repr__(self):
        return f"PhysicalDevice(name={self.name!r}, device_type={self.device_type!r})"

    def __eq__(self, other):
        return isinstance(other, PhysicalDevice) and (self.name, self.device_type) == (other.name, other.device_type)

    def __hash__(self):
        return hash((self.name, self.device_type))


class LogicalDevice:
    """A logical device as tf.config.list_logical_devices returns it: its `name` and `device_type`."""

    def __init__(self, name, device_type):
        self.name, self.device_type = name, device_type

    def __repr__(self):
        return f"LogicalDevice(name={self.name!r}, device_type={self.device_type!r})"


class LogicalDeviceConfiguration:
    """One logical device of a physical one. `memory_limit` (MB) is accepted for TF compatibility and only
    meaningful for GPUs, which gpuflow does not split."""

    def __init__(self, memory_limit=None, experimental_priority=None, experimental_device_ordinal=None):
        self.memory_limit = memory_limit
        self.experimental_priority = experimental_priority
        self.experimental_device_ordinal = experimental_device_ordinal

    def __repr__(self):
        return f"LogicalDeviceConfiguration(memory_limit={self.memory_limit})"


# The sim device is listed when asked for by type (list_physical_devices("SIM")); the untyped listing keeps
# TF's CPU + GPU so code that counts devices sees what it would under TensorFlow.
_SIM = PhysicalDevice("/physical_device:SIM:0", "SIM")
_logical_counts: dict = {}  # "CPU" / "SIM" → how many logical devices the physical device is split into


def list_physical_devices(device_type=None):
    """The devices of `device_type` ('CPU', 'GPU'; None: all) on this machine: the CPU and every
        usable CUDA GPU. `sim` is not listed: it is a simulator, not hardware.
    """
    found = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    if _device.cuda_available():
        import cupy
        found += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                  for i in range(cupy.cuda.runtime.getDeviceCount())]
    if device_type is not None and str(device_type).upper() == "SIM":
        return [_SIM]
    return [d for d in found if device_type is None or d.device_type == str(device_type).upper()]


def set_logical_device_configuration(device, logical_devices):
    """Split `device` (a PhysicalDevice from list_physical_devices) into len(logical_devices) logical devices."""
    if not isinstance(device, PhysicalDevice):
        raise TypeError(f"set_logical_device_configuration: device must be a PhysicalDevice from "
                        f"gf.config.list_physical_devices(), got {device!r:.100}")
    configs = list(logical_devices or [])
    if not configs or not all(isinstance(c, LogicalDeviceConfiguration) for c in configs):
        raise ValueError(f"set_logical_device_configuration({device.name}): give a non-empty list of "
                         f"gf.config.LogicalDeviceConfiguration(), e.g. [gf.config.LogicalDeviceConfiguration()] * 2")
    if device.device_type == "GPU":
        if len(configs) > 1:
            raise ValueError(f"set_logical_device_configuration({device.name}): gpuflow does not split a GPU into "
                             f"several logical devices; split the CPU or the sim device instead (for tests), or use "
                             f"several GPUs")
        return
    _logical_counts[device.device_type] = len(configs)


set_virtual_device_configuration = set_logical_device_configuration  # TF's older name


def get_logical_device_configuration(device):
    """The LogicalDeviceConfigurations `device` was split into, or None if it was never split."""
    count = _logical_counts.get(device.device_type)
    return None if count is None else [LogicalDeviceConfiguration() for _ in range(count)]


get_virtual_device_configuration = get_logical_device_configuration


def logical_device_count(kind: str) -> int:
    """How many logical devices of kind 'cpu' / 'sim' / 'cuda' exist (cuda: the GPUs)."""
    if kind == "cuda":
        return len(list_physical_devices("GPU"))
    return _logical_counts.get(kind.upper(), 1)


def list_logical_devices(device_type=None):
    """The logical devices (of `device_type`: "CPU", "GPU", "SIM"), after any set_logical_device_configuration."""
    wanted = None if device_type is None else str(device_type).upper()
    out = []
    for kind in ("CPU", "GPU", "SIM"):
        if (wanted is None and kind == "SIM") or (wanted is not None and wanted != kind):
            continue
        out += [LogicalDevice(f"/device:{kind}:{i}", kind) for i in range(logical_device_count(
            "cuda" if kind == "GPU" else kind.lower()))]
    return out


# tf.config.experimental's older names for the logical-device calls (the module holds op determinism too)
experimental.set_virtual_device_configuration = set_logical_device_configuration
experimental.get_virtual_device_configuration = get_logical_device_configuration


def run_functions_eagerly(run_eagerly: bool) -> None:
    """tf.config.run_functions_eagerly: gf.function calls the Python function directly (for debugging)."""
    from .graph.function import run_functions_eagerly as set_eager
    set_eager(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether run_functions_eagerly(True) is in force."""
    from .graph.function import functions_run_eagerly as eager
    return eager()
