"""gf.train: tf.train's checkpoints. `Checkpoint` saves and restores the variables of the objects it is given
(models, layers, optimizers, modules, variables) as one safetensors file per checkpoint; `CheckpointManager`
numbers them and keeps the latest few; `latest_checkpoint` finds the newest in a directory."""
from .checkpoint import Checkpoint, CheckpointLoadStatus
from .manager import CheckpointManager, latest_checkpoint

__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "latest_checkpoint"]
