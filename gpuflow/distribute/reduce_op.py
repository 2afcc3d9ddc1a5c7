"""`gf.distribute.ReduceOp`: how values from several replicas are combined."""
from __future__ import annotations

import enum


class ReduceOp(enum.Enum):
    """How strategy.reduce and all_reduce combine replicas' values: SUM or MEAN (tf.distribute.ReduceOp)."""
    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation):
        return ReduceOp(str(getattr(aggregation, "value", aggregation)).upper())


def as_reduce_op(op) -> ReduceOp:
    """ReduceOp.SUM, or the strings 'sum' / 'mean' TF also accepts."""
    if isinstance(op, ReduceOp):
        return op
    try:
        return ReduceOp(str(op).upper())
    except ValueError:
        raise ValueError(f"unknown reduce op {op!r}: use gf.distribute.ReduceOp.SUM or ReduceOp.MEAN") from None
