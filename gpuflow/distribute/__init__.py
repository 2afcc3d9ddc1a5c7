"""`gf.distribute`: TF's tf.distribute for data-parallel training on several devices and machines.

    strategy = gf.distribute.MirroredStrategy()            # every GPU here (or ["cpu:0", "cpu:1"])
    with strategy.scope():
        model = make_model(); model.compile(...)           # weights mirrored on every replica
    model.fit(x, y, batch_size=global_batch)               # each step: batch split, gradients all-reduced

NCCL is the production path on GPUs; cpu and sim logical devices use an in-process all-reduce with the
same semantics, and workers without GPUs a TCP collective meant for tests and development.
See docs/distributed.md.
"""
from . import context as _context  # noqa: F401 - installs the variable creator hook
from .context import (get_cross_replica_context, get_replica_context, get_strategy, has_strategy,  # noqa: F401
                      in_cross_replica_context)
from .cross_device_ops import CrossDeviceOps, HierarchicalCopyAllReduce, ReductionToOneDevice  # noqa: F401
from .input_lib import InputContext, ValueContext  # noqa: F401
from .mirrored import MirroredStrategy, OneDeviceStrategy  # noqa: F401
from .mirrored_variable import MirroredVariable  # noqa: F401
from .multi_worker import MultiWorkerMirroredStrategy  # noqa: F401
from .nccl import NcclAllReduce  # noqa: F401
from .reduce_op import ReduceOp  # noqa: F401
from .replica_context import ReplicaContext  # noqa: F401
from .strategy import Strategy, StrategyExtended  # noqa: F401
from .values import DistributedValues, PerReplica  # noqa: F401
from . import cluster_resolver, experimental  # noqa: F401
