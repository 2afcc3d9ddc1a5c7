"""MirroredStrategy (several devices, one process) and OneDeviceStrategy, with TF's constructors."""
from __future__ import annotations

from .. import config as _config
from .. import devices as _device
from .cross_device_ops import CrossDeviceOps, ReductionToOneDevice
from .nccl import NcclAllReduce
from .strategy import Strategy, StrategyExtended


def _check_device(device, spec):
    """A device that exists here: cuda:N for an existing GPU, cpu:N / sim:N for a configured logical device."""
    if device.kind == "cuda" and not _device.cuda_available():
        raise ValueError(f"{spec!r}: no usable CUDA GPU here; for tests without a GPU split the CPU into logical "
                         f"devices (gf.config.set_logical_device_configuration) and use 'cpu:0', 'cpu:1', ...")
    count = _config.logical_device_count(device.kind)
    if device.index >= count:
        if device.kind == "cuda":
            raise ValueError(f"{spec!r}: there are {count} GPU(s) here (cuda:0 ... cuda:{count - 1})")
        kind = "CPU" if device.kind == "cpu" else "SIM"
        raise ValueError(f"{spec!r}: there are {count} logical {kind} device(s); split the {kind} first, e.g. "
                         f"gf.config.set_logical_device_configuration(gf.config.list_physical_devices({kind!r})[0], "
                         f"[gf.config.LogicalDeviceConfiguration()] * {device.index + 1})")


def parse_devices(devices, who):
    if isinstance(devices, (str, _device.Device)):
        devices = [devices]
    parsed = []
    for spec in devices:
        device = _device.parse(getattr(spec, "name", spec))  # a LogicalDevice from gf.config works too
        _check_device(device, spec)
        if device in parsed:
            raise ValueError(f"{who}: device {device} is listed twice")
        parsed.append(device)
    if not parsed:
        raise ValueError(f"{who}: give at least one device")
    return parsed


def default_devices():
    """TF's choice: every GPU, else the one CPU (or sim:0 when that is the default device)."""
    gpus = _config.list_physical_devices("GPU")
    if gpus:
        return [_device.Device("cuda", i) for i in range(len(gpus))]
    return [_device.Device(_device.default_device().kind, 0)]


def default_for(devices):
    """NCCL when every replica is a GPU, the in-process reduction otherwise (TF picks the same way). Unlike TF's
    NcclAllReduce() (num_packs=1: one buffer, which a compiled step can only sum once the whole backward pass is
    done), buckets of up to 25 MiB, so the first buckets' sums overlap the rest of the backward pass."""
    if devices and all(d.kind == "cuda" for d in devices):
        return NcclAllReduce(num_packs=None)
    return ReductionToOneDevice()


class MirroredStrategy(Strategy):
    """Synchronous data parallelism on the devices of one machine: one replica per device, variables mirrored
    on each, gradients all-reduced (NCCL on GPUs, the in-process reduction on cpu/sim logical devices)."""

    def __init__(self, devices=None, cross_device_ops=None):
        devices = parse_devices(devices, "MirroredStrategy") if devices is not None else default_devices()
        if cross_device_ops is not None and not isinstance(cross_device_ops, CrossDeviceOps):
            raise TypeError(f"MirroredStrategy: cross_device_ops must be a gf.distribute.CrossDeviceOps (e.g. "
                            f"gf.distribute.NcclAllReduce()), got {cross_device_ops!r:.80}")
        cross_device_ops = cross_device_ops or default_for(devices)
        if any(d.kind != "cuda" for d in devices) and type(cross_device_ops).__name__ == "NcclAllReduce":
            raise ValueError(f"MirroredStrategy: NcclAllReduce needs GPUs, got {[str(d) for d in devices]}; use "
                             f"gf.distribute.ReductionToOneDevice() on cpu or sim devices")
        super().__init__(StrategyExtended(self, devices, cross_device_ops))


class OneDeviceStrategy(Strategy):
    """Everything on one device: variables made in scope are placed there, run executes fn there."""

    def __init__(self, device):
        devices = parse_devices([device], "OneDeviceStrategy")
        super().__init__(StrategyExtended(self, devices, default_for([])))
