"""Keras fit / evaluate / predict on a distribution strategy (what TF's Model.make_train_function does).

A model compiled inside `strategy.scope()` has mirrored weights and optimizer state; each fit step then
  1. splits the global batch (the batch_size given to fit) across the replicas in sync (input_lib.py),
  2. runs forward, loss and backward on every replica, each loss scaled by its share of the global batch
     (rows / global rows), so the gradients sum to the gradient of the global batch's mean loss,
  3. all-reduces (sums) the gradients, in a fixed order, and every replica applies the same update,
  4. updates the compiled metrics once, in cross-replica context, on the predictions of all replicas
     gathered in batch order: exactly what one replica would report for the whole batch.
The loss means (host numbers, weighted by rows) take every replica's contribution; with several
workers, their sums are added across workers too.
Steps 2-3 are compiled (unless compile(run_eagerly=True), or a LossScaleOptimizer): each replica's part is a
gf.function, traced once per replica device and input shape, whose graph holds the gradients' all-reduce as
collective nodes started as soon as the backward pass has made each bucket (graph_all_reduce.py).
"""
from __future__ import annotations

import functools

from .. import devices as _device
from .. import nest
from ..autograd import GradientTape
from ..ops.creation import copy_to
from .input_lib import batch_size_of, shard_batch
from .mirrored_variable import MirroredVariable
from .values import PerReplica, local_results


def strategy_of(model, compiled=True):
    """The strategy `model` runs under: the one its optimizer's step counter is mirrored by (compile ran inside
    the scope), else, for predict (`compiled=False`), the one its weights are mirrored by; None for neither."""
    strategy = getattr(getattr(model.optimizer, "iterations", None), "_strategy", None)
    if strategy is not None:
        return strategy
    mirrored = next((w for w in model.weights if isinstance(w, MirroredVariable)), None)
    if mirrored is None:
        return None
    if compiled and model.optimizer is not None:
        raise ValueError(f"{model.name} was built inside a distribution strategy's scope but compiled outside it; "
                         f"call model.compile(...) inside `with strategy.scope():` too, so the optimizer's state "
                         f"is mirrored as well")
    return mirrored._strategy


def train_function(model, compiled=True):
    """What fit calls for each batch: model.train_step, or the distributed step when compiled under a strategy
    (each replica's part a gf.function unless `compiled` is False)."""
    strategy = strategy_of(model)
    if strategy is None:
        return model.train_step
    from ..keras.engine.training import Model
    if type(model).train_step is not Model.train_step:
        raise NotImplementedError(f"{type(model).__name__} overrides train_step, which is not supported under a "
                                  f"distribution strategy yet; write a custom loop with strategy.run and "
                                  f"gf.nn.compute_average_loss (docs/distributed.md), or use the built-in train_step")
    return ReplicatedStep("train", _step, model, strategy, _replica_train, compiled)


def test_function(model, compiled=True):
    strategy = strategy_of(model)
    if strategy is None:
        return model.test_step
    return ReplicatedStep("test", _step, model, strategy, _replica_test, compiled)


def predict_function(model, compiled=True):
    strategy = strategy_of(model, compiled=False)
    if strategy is None:
        return model.predict_step
    return ReplicatedStep("predict", _predict, model, strategy, _replica_predict, compiled)


class ReplicatedStep:
    """A Keras step under a strategy: `step(model, strategy, replica_fn, batch)` in cross-replica context, whose
    replica_fn (each replica's part, run by strategy.run) is, when compiled, a gf.function per replica device
    (so each device's traces are its own: a new input shape retraces, a new device is not a "retrace").
    Reports their traces like a gf.function does: tracing count, concrete functions."""

    def __init__(self, kind, step, model, strategy, replica_fn, compiled):
        self._step, self._model, self._strategy = step, model, strategy
        self._kind, self._replica_fn = kind, functools.partial(replica_fn, model)
        self._functions = {} if compiled else None  # replica device → its gf.function

    def __call__(self, batch):
        fn = self._replica_fn if self._functions is None else self._compiled_replica
        return self._step(self._model, self._strategy, fn, batch)

    def _compiled_replica(self, *args):
        device = _device.current()  # the replica's own (strategy.run's threads run under their device)
        function = self._functions.get(device)
        if function is None:
            from ..graph import Function
            function = self._functions[device] = Function(self._replica_fn, name=f"{self._kind}_replica_step")
        return function(*args)

    def experimental_get_tracing_count(self) -> int:
        """How many times the replicas' steps were traced, all devices together (0 when they run eagerly)."""
        return sum(f.experimental_get_tracing_count() for f in (self._functions or {}).values())

    @property
    def concrete_functions(self) -> list:
        """Every replica device's traced steps, in the order the devices first ran."""
        return [c for f in (self._functions or {}).values() for c in f.concrete_functions]


def _replica_train(model, shard, rows, global_rows):
    """One replica's part of a training step: its loss, the all-reduced gradients, the update. Returns y_pred."""
    x, y, sample_weight = shard
    optimizer = model._compiled.optimizer
    with GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, sample_weight)
        loss = loss * (rows / global_rows)  # this replica's share of the global batch's mean
        if hasattr(optimizer, "scale_loss"):
            loss = optimizer.scale_loss(loss)
    variables = model.trainable_variables
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))  # sums the gradients over the replicas first (aggregation.py)
    return y_pred


def _replica_test(model, shard, rows, global_rows):
    x, y, sample_weight = shard
    y_pred = model(x, training=False)
    model.compute_loss(x, y, y_pred, sample_weight, training=False)
    return y_pred


def _replica_predict(model, x):
    return model(x, training=False)


def _step(model, strategy, replica_fn, batch):
    from ..keras.engine.data_adapter import unpack_x_y_sample_weight
    x, y, sample_weight = unpack_x_y_sample_weight(batch)
    shards, rows = shard_batch(strategy, (x, y, sample_weight))
    global_rows = batch_size_of(x)
    before = [(t.total, t.count) for t in _loss_trackers(model)]
    with strategy.scope():
        out = strategy.run(replica_fn, args=(_per_replica(shards), _per_replica(rows), global_rows))
        _add_across_workers(strategy, _loss_trackers(model), before)
        primary = strategy.extended._local_devices[0]
        with _device.device(primary):
            y_pred = _gather(strategy, local_results(out), primary)
            x, y, sample_weight = (_on(v, primary) for v in (x, y, sample_weight))
            return model.compute_metrics(x, y, y_pred, sample_weight)


def _predict(model, strategy, replica_fn, batch):
    from ..keras.engine.data_adapter import unpack_x_y_sample_weight
    x, _, _ = unpack_x_y_sample_weight(batch)
    shards, _ = shard_batch(strategy, x)
    with strategy.scope():
        out = strategy.run(replica_fn, args=(_per_replica(shards),))
        primary = strategy.extended._local_devices[0]
        return _gather(strategy, local_results(out), primary)


def _per_replica(values):
    return PerReplica(values) if len(values) > 1 else values[0]


def _gather(strategy, per_replica, device):
    """The replicas' outputs (same nest each) concatenated along the batch, in global replica order, on `device`."""
    if strategy.extended._num_workers == 1 and len(per_replica) == 1:
        return nest.map_structure(lambda t: _on(t, device), per_replica[0])
    value = PerReplica(per_replica) if len(per_replica) > 1 else per_replica[0]
    gathered = local_results(strategy.extended._all_gather_per_replica(value, axis=0))[0]
    return nest.map_structure(lambda t: _on(t, device), gathered)


def _on(value, device):
    from ..tensor import Tensor
    if isinstance(value, Tensor) and value._device != device:
        return copy_to(value, device)
    if nest.is_nested(value):
        return nest.map_structure(lambda v: _on(v, device), value)
    return value


def _loss_trackers(model):
    """The host-side running means of the loss (and per-output losses) that compute_loss updates."""
    state = model._compiled
    return [state.loss_tracker] + list(state.loss.trackers.values() if state.loss else [])


def _add_across_workers(strategy, trackers, before):
    """Each worker's loss means saw only its own replicas' rows; add every worker's contribution of this step."""
    workers = strategy.extended._workers
    if workers is None or workers.size == 1:
        return
    import numpy as np
    # trackers made in this (first) step, or first updated in it (their sums are None before), began at 0
    start = [(t0 or 0.0, c0 or 0.0) for t0, c0 in before] + [(0.0, 0.0)] * (len(trackers) - len(before))
    delta = np.array([[t.total - t0, t.count - c0] for t, (t0, c0) in zip(trackers, start)], dtype=np.float64)
    total = workers.all_reduce_sum([delta])[0]
    for t, (t0, c0), (dt, dc) in zip(trackers, start, total):
        t.total, t.count = t0 + float(dt), c0 + float(dc)


def should_checkpoint(model) -> bool:
    """Whether this process writes the model's checkpoints: yes, unless it is a non-chief worker of a
    multi-worker job (TF's strategy.extended.should_checkpoint)."""
    strategy = strategy_of(model, compiled=False)
    return strategy is None or strategy.extended.should_checkpoint
