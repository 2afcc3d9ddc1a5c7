"""The fit / evaluate / predict loops: batches in, callbacks around each step, logs out."""
from __future__ import annotations

import itertools

import numpy as np

from ... import nest
from . import data_adapter as _data
from .base_layer import to_snake_case
from .step_logs import StepLogs


def _verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return verbose


def _callback_list(model, callbacks, verbose, epochs, steps, add_history):
    from ..callbacks import CallbackList
    if callbacks is not None and not isinstance(callbacks, (list, tuple, CallbackList)):
        raise TypeError(f"callbacks must be a list of Callback objects, got {type(callbacks).__name__}")
    if isinstance(callbacks, CallbackList):
        return callbacks
    return CallbackList(callbacks, add_history=add_history, add_progbar=verbose != 0, model=model,
                        verbose=verbose, epochs=epochs, steps=steps)


def _validation_batches(validation_data, batch_size, steps):
    if isinstance(validation_data, tuple):
        if not 2 <= len(validation_data) <= 3:
            raise ValueError(f"validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight), got a "
                             f"tuple of {len(validation_data)}")
        vx, vy, vsw = tuple(validation_data) + (None,) * (3 - len(validation_data))
        return _data.make_batches(vx, vy, vsw, batch_size, steps=steps, what="validation_data")
    return _data.make_batches(validation_data, steps=steps, what="validation_data")


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
        class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
        validation_freq, **kwargs):
    if kwargs:
        raise TypeError(f"fit: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    model._require_compiled("fit")
    verbose = _verbose(verbose)
    if validation_split and validation_data is None:
        if not _data.is_array_data(x):
            raise ValueError("fit: validation_split works only with arrays; with a dataset pass validation_data")
        x, y, sample_weight = (_data.to_numpy_nest(v) for v in (x, y, sample_weight))
        (x, y, sample_weight), validation_data = _data.split_validation(x, y, sample_weight, validation_split)
    if class_weight is not None:
        if not _data.is_array_data(x) or y is None or nest.is_nested(y):
            raise ValueError("fit: class_weight needs y as one array (a single output)")
        if sample_weight is not None:
            raise ValueError("fit: give class_weight or sample_weight, not both")
        sample_weight = _data.class_weight_to_sample_weight(y, class_weight)
    batches = _data.make_batches(x, y, sample_weight, batch_size, shuffle=shuffle, steps=steps_per_epoch)
    _labels_as_the_loss_takes_them(model, batches)
    val_batches = None
    if validation_data is not None:
        val_batches = _validation_batches(validation_data, validation_batch_size or batch_size, validation_steps)
    cbs = _callback_list(model, callbacks, verbose, epochs, batches.num_batches, add_history=True)
    model.stop_training = False
    train_function = model.make_train_function()
    cbs.on_train_begin()
    initial_epoch = model.__dict__.pop("_initial_epoch", None) or initial_epoch  # BackupAndRestore's resume point
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        cbs.on_epoch_begin(epoch)
        step = -1
        for step, logs in _run_steps(model, "train", train_function, batches, cbs.on_train_batch_begin,
                                     cbs.on_train_batch_end):
            if model.stop_training:
                break
        if batches.ran_out:  # a generator was used up (the adapter warned): Keras stops training here
            model.stop_training = True
            if step < 0:
                break
        if step < 0:
            raise ValueError("fit: the training data gave no batches")
        epoch_logs = dict(logs)
        if val_batches is not None and _run_validation(epoch, validation_freq):
            val_logs = _test_loop(model, val_batches, cbs, in_fit=True)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    from ..callbacks import History
    history = next(cb for cb in cbs if isinstance(cb, History))
    model.history = history
    return history


def _labels_as_the_loss_takes_them(model, batches):
    """Class-id labels for a sparse categorical loss are uploaded as int32, the dtype the loss computes with,
    converted once on the host: not as int64 and cast on the device every step."""
    spec = model._compiled.loss_spec
    name = spec if isinstance(spec, str) else type(spec).__name__ if spec is not None else ""
    y = getattr(batches, "y", None)
    if "sparse_categorical" not in to_snake_case(name) or not isinstance(y, np.ndarray) or y.dtype != np.int64:
        return
    if y.size == 0 or (y.min() >= np.iinfo(np.int32).min and y.max() <= np.iinfo(np.int32).max):
        batches.y = y.astype(np.int32)


def _run_steps(model, kind, function, batches, on_begin, on_end):
    """Run an epoch of steps: yields (last step index, its logs). With steps_per_execution = n, each call of
    `function` takes n batches (the last call the rest), and the batch callbacks see the index of the last
    step of each call, as in Keras. Logs stay on the device until looked at (StepLogs)."""
    n = model._steps_per_call(kind)
    epoch = iter(batches.epoch())
    step = 0
    while True:
        group = list(itertools.islice(epoch, n))
        if not group:
            return
        on_begin(step)
        logs = StepLogs(function(group) if n > 1 else function(group[0]))
        step += len(group)
        on_end(step - 1, logs)
        yield step - 1, logs


def _run_validation(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq


def _test_loop(model, batches, cbs, in_fit=False):
    cbs.params["in_fit"] = in_fit
    model.reset_metrics()
    cbs.on_test_begin()
    logs = {}
    for _, logs in _run_steps(model, "test", model.make_test_function(), batches, cbs.on_test_batch_begin,
                              cbs.on_test_batch_end):
        pass
    cbs.on_test_end(dict(logs))
    cbs.params["in_fit"] = False
    return logs


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict, **kwargs):
    if kwargs:
        raise TypeError(f"evaluate: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    model._require_compiled("evaluate")
    verbose = _verbose(verbose)
    batches = _data.make_batches(x, y, sample_weight, batch_size, steps=steps, what="evaluate")
    cbs = _callback_list(model, callbacks, verbose, 1, batches.num_batches, add_history=False)
    logs = _test_loop(model, batches, cbs)
    if return_dict:
        return dict(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size, verbose, steps, callbacks, **kwargs):
    if kwargs:
        raise TypeError(f"predict: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    verbose = _verbose(verbose)
    batches = _data.make_batches(x, None, None, batch_size, steps=steps, what="predict")
    cbs = _callback_list(model, callbacks, verbose, 1, batches.num_batches, add_history=False)
    cbs.on_predict_begin()
    outputs = []
    predict_function = model.make_predict_function()
    for step, batch in enumerate(batches.epoch()):
        cbs.on_predict_batch_begin(step)
        out = predict_function(batch)
        outputs.append(_data.to_host(out))
        cbs.on_predict_batch_end(step, {"outputs": out})
    cbs.on_predict_end()
    if not outputs:
        raise ValueError("predict: the input gave no batches")
    return nest.map_structure(lambda *parts: np.concatenate(parts, axis=0), *outputs)
