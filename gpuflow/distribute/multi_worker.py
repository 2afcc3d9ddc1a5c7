"""MultiWorkerMirroredStrategy: synchronous training on several machines (TF's, from TF_CONFIG).

Every worker runs the same program. At construction the workers meet (worker_group.py: each listens on
its TF_CONFIG address, the chief is rank 0); each then mirrors variables on its local replicas (its GPUs,
else its CPU), new variables start from the chief's values, and each step's gradients are summed over
all replicas of all workers: by NCCL across machines on GPUs (the chief publishes NCCL's unique id),
or by the TCP collective (for tests and development) without GPUs. Only the chief writes checkpoints.
Without TF_CONFIG (or with a cluster of one), it trains on the local devices alone, as in TF.
"""
from __future__ import annotations

from .cluster_resolver import TFConfigClusterResolver, collective_members
from .cross_device_ops import ReductionToOneDevice
from .mirrored import default_devices
from .options import CommunicationImplementation, CommunicationOptions
from .strategy import Strategy, StrategyExtended
from .worker_group import WorkerGroup


class MultiWorkerMirroredStrategy(Strategy):
    """tf.distribute.MultiWorkerMirroredStrategy: mirrored training over several processes (machines) from
    TF_CONFIG or a cluster_resolver; NCCL on GPUs, a TCP collective on cpu/sim (for tests and development).

    Devices: cpu, sim (TCP collective), cuda (NCCL)
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        resolver = cluster_resolver or TFConfigClusterResolver()
        options = communication_options or CommunicationOptions()
        if not isinstance(options, CommunicationOptions):
            raise TypeError(f"MultiWorkerMirroredStrategy: communication_options must be a gf.distribute."
                            f"experimental.CommunicationOptions, got {options!r:.80}")
        devices = default_devices()
        on_gpus = all(d.kind == "cuda" for d in devices)
        implementation = options.implementation
        if implementation is CommunicationImplementation.NCCL and not on_gpus:
            raise ValueError("MultiWorkerMirroredStrategy: CommunicationImplementation.NCCL needs GPUs, and this "
                             "worker has none; use AUTO or RING")
        if implementation is CommunicationImplementation.AUTO:
            implementation = CommunicationImplementation.NCCL if on_gpus else CommunicationImplementation.RING
        if implementation is CommunicationImplementation.NCCL:
            from .nccl import NcclAllReduce
            cross_device_ops = NcclAllReduce(num_packs=None)
        else:
            cross_device_ops = ReductionToOneDevice()
        if options.bytes_per_pack:
            cross_device_ops.bytes_per_pack = options.bytes_per_pack
        workers = None
        if resolver.cluster_spec():
            addresses, rank = collective_members(resolver)
            if len(addresses) > 1:
                workers = WorkerGroup(addresses, rank, hello={"replicas": len(devices)},
                                      collective_timeout=options.timeout_seconds)
                counts = {w: h.get("replicas") for w, h in workers.hellos.items()}
                if len(set(counts.values())) > 1:
                    workers.close()
                    raise ValueError(f"MultiWorkerMirroredStrategy: the workers have different numbers of replicas "
                                     f"{counts} (worker: replicas); give every worker the same number of GPUs")
        self._cluster_resolver = resolver
        self._communication_options = options
        self.implementation = implementation
        super().__init__(StrategyExtended(self, devices, cross_device_ops, workers))

    def close(self):
        """Leave the job: peers see this worker as gone (cleanly) rather than dead."""
        self._extended._close()

    def __repr__(self):
        extended = self._extended
        return (f"<MultiWorkerMirroredStrategy worker {extended._worker_index} of {extended._num_workers}, devices="
                f"{list(extended.worker_devices)}, {self.implementation.name}>")

