"""Where the code runs: inside a strategy's scope (cross-replica context), inside one replica of
`strategy.run` (replica context), or neither (the default strategy, one replica on the current device).

Per thread, as in TensorFlow: each replica of a MirroredStrategy runs in its own thread with its own
replica context, and a MirroredVariable read there gives that replica's copy.
"""
from __future__ import annotations

import threading

from ..tensor import Variable

_local = threading.local()  # .scopes: [strategy, ...] entered with strategy.scope(); .replica: ReplicaContext


def scope_stack() -> list:
    stack = getattr(_local, "scopes", None)
    if stack is None:
        stack = _local.scopes = []
    return stack


def current_replica():
    """This thread's ReplicaContext inside strategy.run, else None."""
    return getattr(_local, "replica", None)


def set_replica(ctx):
    previous = getattr(_local, "replica", None)
    _local.replica = ctx
    return previous


def replica_index(strategy):
    """The local index of the replica this thread runs for `strategy`, or None in cross-replica context."""
    ctx = getattr(_local, "replica", None)
    return ctx._local_index if ctx is not None and ctx._strategy is strategy else None


def get_strategy():
    """The strategy of the innermost scope or replica, else the default strategy (one replica, current device)."""
    ctx = getattr(_local, "replica", None)
    if ctx is not None:
        return ctx._strategy
    stack = scope_stack()
    if stack:
        return stack[-1]
    from .default import default_strategy
    return default_strategy()


def has_strategy() -> bool:
    """Whether a non-default strategy is current (inside its scope or strategy.run)."""
    from .default import default_strategy
    return get_strategy() is not default_strategy()


def in_cross_replica_context() -> bool:
    """Whether this code runs inside a strategy's scope but outside strategy.run."""
    return current_replica() is None and bool(scope_stack())


def get_replica_context():
    """The ReplicaContext inside strategy.run; None in cross-replica context (inside a scope, outside run);
    outside any strategy, the default strategy's single replica, as in TF."""
    ctx = current_replica()
    if ctx is not None:
        return ctx
    if scope_stack():
        return None
    from .default import default_strategy
    return default_strategy()._default_replica_context


def get_cross_replica_context():
    """The strategy in cross-replica context, None inside a replica; the default strategy outside any scope."""
    if current_replica() is not None:
        return None
    return get_strategy()


def _variable_class():
    """The class `gf.Variable(...)` makes here: the strategy's mirrored variable inside a scope or a replica."""
    ctx = getattr(_local, "replica", None)
    if ctx is not None:
        return ctx._strategy._variable_class
    stack = getattr(_local, "scopes", None)
    return stack[-1]._variable_class if stack else None


Variable._class_hook = staticmethod(_variable_class)
