"""gf.distribute.experimental.CommunicationOptions / CommunicationImplementation (TF's names)."""
from __future__ import annotations

import enum


class CommunicationImplementation(enum.Enum):
    AUTO = "AUTO"  # NCCL when every replica is a GPU, else RING
    RING = "RING"  # gpuflow: the TCP collective of worker_group.py (host copies; for tests and development)
    NCCL = "NCCL"


CollectiveCommunication = CommunicationImplementation  # TF's older name


class CommunicationOptions:
    """implementation: how workers all-reduce; timeout_seconds: how long one collective may wait for the
    others (None: as long as they are alive, judged by their heartbeats); bytes_per_pack: buffer size
    for packing gradients (0: the default, 25 MiB)."""

    def __init__(self, bytes_per_pack=0, timeout_seconds=None, implementation=CommunicationImplementation.AUTO):
        if not isinstance(bytes_per_pack, int) or bytes_per_pack < 0:
            raise ValueError(f"CommunicationOptions: bytes_per_pack must be an integer >= 0, got {bytes_per_pack!r}")
        if timeout_seconds is not None and not timeout_seconds > 0:
            raise ValueError(f"CommunicationOptions: timeout_seconds must be > 0 or None, got {timeout_seconds!r}")
        self.bytes_per_pack, self.timeout_seconds = bytes_per_pack, timeout_seconds
        self.implementation = CommunicationImplementation(getattr(implementation, "value", implementation))

    def __repr__(self):
        return (f"CommunicationOptions(bytes_per_pack={self.bytes_per_pack}, timeout_seconds={self.timeout_seconds}, "
                f"implementation={self.implementation.name})")
