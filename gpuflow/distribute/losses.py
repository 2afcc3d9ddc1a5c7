"""gf.nn.compute_average_loss and gf.nn.scale_regularization_loss: a replica's share of the global loss.

Each replica sums its examples' losses and divides by the *global* batch size, so that summing the
replicas' gradients (what the all-reduce does) gives the gradient of the mean over the global batch.
"""
from __future__ import annotations

from .. import devices as _device
from .. import ops
from ..ops.creation import convert_to_tensor
from ..tensor import Tensor
from . import context


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size; without global_batch_size, the per-replica
    batch times num_replicas_in_sync (TF's tf.nn.compute_average_loss)."""
    loss = convert_to_tensor(per_example_loss)
    if loss.ndim < 1:
        raise ValueError("compute_average_loss: per_example_loss must have rank >= 1 (one value per example), "
                         "got a scalar; pass the unreduced losses, e.g. a loss with reduction='none'")
    if sample_weight is not None:
        with _device.device(loss._device):
            weight = ops.cast(convert_to_tensor(sample_weight), loss.dtype)
        while weight.ndim < loss.ndim:
            weight = ops.expand_dims(weight, -1)
        loss = loss * weight
    if global_batch_size is None:
        if context.in_cross_replica_context():
            raise RuntimeError("compute_average_loss was called in cross-replica context; call it inside "
                               "strategy.run (replica context), or pass global_batch_size")
        global_batch_size = loss.shape[0] * context.get_strategy().num_replicas_in_sync
    if isinstance(global_batch_size, Tensor):
        if global_batch_size.ndim or global_batch_size.dtype.is_floating:
            raise ValueError(f"compute_average_loss: global_batch_size must be a scalar integer, got "
                             f"{global_batch_size.dtype.name}{list(global_batch_size.shape)}")
        global_batch_size = int(global_batch_size)
    if isinstance(global_batch_size, bool) or not isinstance(global_batch_size, int) or global_batch_size <= 0:
        raise ValueError(f"compute_average_loss: global_batch_size must be a positive integer, got "
                         f"{global_batch_size!r}")
    return ops.reduce_sum(loss) / float(global_batch_size)  # a Python number keeps the loss's dtype


def scale_regularization_loss(regularization_loss):
    """sum(regularization_loss) / num_replicas_in_sync: added on every replica, it counts once in the sum."""
    losses = regularization_loss if isinstance(regularization_loss, (list, tuple)) else [regularization_loss]
    total = ops.add_n([convert_to_tensor(v) for v in losses]) if len(losses) > 1 else convert_to_tensor(losses[0])
    if context.in_cross_replica_context():
        raise RuntimeError("scale_regularization_loss was called in cross-replica context; call it inside "
                           "strategy.run (replica context)")
    return total / float(context.get_strategy().num_replicas_in_sync)
