"""`gf.keras.callbacks`: hooks into fit/evaluate/predict, with Keras's names and behaviour."""
from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np

from .engine.progbar import Progbar, format_duration, format_metrics, format_per_unit

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need. `self.model` and `self.params` are set by fit."""

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params


def _noop(self, *args, **kwargs):
    """Keras's default hook: does nothing."""


for _hook in _HOOKS:
    setattr(Callback, _hook, _noop)
Callback.on_batch_begin = lambda self, batch, logs=None: self.on_train_batch_begin(batch, logs)
Callback.on_batch_end = lambda self, batch, logs=None: self.on_train_batch_end(batch, logs)


class CallbackList:
    """Calls each hook on every callback in order; fit adds History (last) and a ProgbarLogger (first) as Keras does."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be gf.keras.callbacks.Callback instances, got {type(cb).__name__}")
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        self.model = model
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)


def _dispatch(hook):
    # Keras always hands hooks a logs dict (possibly empty), positionally: LambdaCallback functions rely on it.
    if "batch" in hook or "epoch" in hook:
        def call(self, index, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs if logs is not None else {})
    else:
        def call(self, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(logs if logs is not None else {})
    call.__name__ = hook
    return call


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _dispatch(_hook))


class History(Callback):
    """Records each epoch's logs: `history['loss'][i]` is epoch i's loss. fit returns it."""

    def __init__(self):
        super().__init__()
        self.history, self.epoch = {}, []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a progress bar (verbose=1) or one line per epoch (verbose=2)."""

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        self.verbose, self.epochs, self.target = 1, 1, None
        self._bar, self._seen, self._epoch_start, self._epoch = None, 0, 0.0, 0

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self, target):
        self._seen = 0
        self._bar = Progbar(target, verbose=1, stateful_metrics=None, unit_name="step")
        self._bar.stateful_metrics = _AllNames()  # fit's logs are running means already

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._epoch_start, self._seen = epoch, time.time(), 0
        if self.verbose == 1:
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            sys.stdout.flush()
            self._new_bar(self.target)

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self.verbose == 1 and self._bar is not None:
            # fit's logs are running means on the device: read them only when the bar is drawn (a few times
            # a second), not after every step
            values = list((logs or {}).items()) if self._bar.due(self._seen) else None
            self._bar.update(self._seen, values, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        items = list((logs or {}).items())
        if self.verbose == 1 and self._bar is not None:
            if self._bar.target is None:
                self._bar.target = self._seen
            self._bar.update(self._seen, items, finalize=True)
            self.target = self.target or self._seen
        elif self.verbose == 2:
            elapsed = time.time() - self._epoch_start
            per_step = elapsed / self._seen if self._seen else 0.0
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs} - {format_duration(elapsed)} - "
                             f"{format_per_unit(per_step, 'step')}{format_metrics(items)}\n")
            sys.stdout.flush()

    def on_test_begin(self, logs=None):
        if self.params.get("in_fit"):
            return
        if self.verbose == 1:
            self._new_bar(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self.params.get("in_fit") and self.verbose == 1 and self._bar is not None:
            self._seen = batch + 1
            values = list((logs or {}).items()) if self._bar.due(self._seen) else None
            self._bar.update(self._seen, values, finalize=False)

    def on_test_end(self, logs=None):
        if not self.params.get("in_fit") and self.verbose == 1 and self._bar is not None:
            self._bar.target = self._bar.target or self._seen
            self._bar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        if self.verbose == 1:
            self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        if self.verbose == 1 and self._bar is not None:
            self._seen = batch + 1
            self._bar.update(self._seen, finalize=False)

    def on_predict_end(self, logs=None):
        if self.verbose == 1 and self._bar is not None:
            self._bar.target = self._bar.target or self._seen
            self._bar.update(self._seen, finalize=True)


class _AllNames:
    """A set that holds every name: marks all values as already averaged."""

    def __contains__(self, name):
        return True


def _monitor_op(mode, monitor, owner):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall", "f1")) else "min"
    return mode


def _improved(mode, current, best, min_delta):
    return current < best - min_delta if mode == "min" else current > best + min_delta


def _monitored(logs, monitor, owner):
    value = (logs or {}).get(monitor)
    if value is None:
        sys.stderr.write(f"{owner}: the metric {monitor!r} is not in the logs (has: {', '.join(logs or {})}); "
                         f"skipping this epoch\n")
    return value


class EarlyStopping(Callback):
    """Stops `fit` when the `monitor`ed metric has not improved by `min_delta` for `patience` epochs,
        optionally restoring the best epoch's weights, with Keras' arguments.
    """
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.mode = _monitor_op(mode, monitor, "EarlyStopping")
        self.min_delta = abs(float(min_delta))
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # Keras keeps the first epoch's weights as a fallback
        self.wait += 1
        if _improved(self.mode, current, self.best, self.min_delta):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or _improved(self.mode, current, self.baseline, 0):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model after each epoch or every `save_freq` batches, written to a temporary file then renamed;
    `filepath` may hold `{epoch:02d}` and log names like `{val_loss:.2f}`.

    A `.keras` path saves the whole model (model.save: config, weights, optimizer state); a `.weights.h5` or
    `.safetensors` path saves the weights only. `save_weights_only` left unset follows the path, so tf.keras 2
    code naming a weights file keeps working; set, it must agree with the path, as Keras 3 checks."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=None,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, got "
                             f"{save_freq!r}")
        filepath = os.fspath(filepath)
        whole = filepath.endswith(".keras")
        if save_weights_only is None:
            save_weights_only = not whole
        elif save_weights_only and whole:
            raise ValueError(f"ModelCheckpoint: save_weights_only=True needs a weights file name ending in "
                             f".weights.h5 or .safetensors, got {filepath!r}")
        elif not save_weights_only and not whole:
            raise ValueError(f"ModelCheckpoint: save_weights_only=False saves the whole model, whose file name must "
                             f"end in .keras, got {filepath!r}")
        self.filepath, self.monitor, self.verbose = filepath, monitor, verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self.mode = _monitor_op(mode, monitor, "ModelCheckpoint")
        self.best = initial_value_threshold if initial_value_threshold is not None else (
            math.inf if self.mode == "min" else -math.inf)
        self._batches, self._epoch = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self._epoch, dict(logs or {}, batch=batch + 1))

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs or {})

    def _save(self, epoch, logs):
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {e.args[0]!r}, which is not in the "
                           f"logs ({', '.join(['epoch', *logs])})") from None
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None or not _improved(self.mode, current, self.best, 0):
                if self.verbose and current is not None:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        from .distributed_step import should_checkpoint
        if not should_checkpoint(self.model):  # a multi-worker job: only the chief writes
            return
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at each epoch's start to `schedule(epoch, lr)` (or `schedule(epoch)`)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            lr = self.schedule(epoch, _current_lr(optimizer))
        except TypeError:
            lr = self.schedule(epoch)
        lr = float(np.asarray(lr))
        if not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr} for epoch {epoch}; it must return "
                             f"a finite float")
        _set_lr(optimizer, lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model.optimizer)


def _current_lr(optimizer) -> float:
    """The rate as a float: gpuflow optimizers answer from their host mirror (no device read); any other
    optimizer's `learning_rate` (a number, tensor or variable) is converted."""
    if hasattr(optimizer, "_current_learning_rate"):
        return optimizer._current_learning_rate()
    return float(np.asarray(optimizer.learning_rate))


def _set_lr(optimizer, value: float):
    # The optimizer's setter assigns its rate variable (Keras 3) and raises a clear error for a schedule.
    optimizer.learning_rate = value


class ReduceLROnPlateau(Callback):
    """Multiplies the optimizer's learning rate by `factor` when the `monitor`ed metric has not improved
        for `patience` epochs (then waits `cooldown` epochs), never below `min_lr`.
    """
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1 (it multiplies the learning rate), got {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, float(factor), int(patience), verbose
        self.mode = _monitor_op(mode, monitor, "ReduceLROnPlateau")
        self.min_delta, self.cooldown, self.min_lr = float(min_delta), int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter = 0, 0
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model.optimizer)
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if _improved(self.mode, current, self.best, self.min_delta):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = _current_lr(self.model.optimizer)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    _set_lr(self.model.optimizer, new)
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Writes one row per epoch: `epoch` then the log keys in sorted order."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer, self._keys, self._has_header = None, None, exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys], delimiter=self.sep)
            if not self._has_header:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stops `fit` at the first batch whose loss is NaN or infinite."""
    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: invalid loss {float(loss)}, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`."""

    def __init__(self, **hooks):
        super().__init__()
        unknown = sorted(set(hooks) - set(_HOOKS) - {"on_batch_begin", "on_batch_end"})
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {', '.join(unknown)}; hooks are {', '.join(_HOOKS)}")
        for name, fn in hooks.items():
            if name == "on_batch_begin":
                name = "on_train_batch_begin"
            elif name == "on_batch_end":
                name = "on_train_batch_end"
            setattr(self, name, fn)


# Callbacks in modules of their own, which subclass Callback and so import this module: loaded on first use
# (PEP 562), so that importing one of those modules first finds this one complete instead of a cycle.
_ELSEWHERE = ("TensorBoard", "BackupAndRestore")


def __getattr__(name):
    if name == "TensorBoard":
        from .tensorboard_callback import TensorBoard as value
    elif name == "BackupAndRestore":
        from .backup import BackupAndRestore as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__():
    return sorted(set(globals()) | set(_ELSEWHERE))
