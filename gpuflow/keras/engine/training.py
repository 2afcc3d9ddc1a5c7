"""`Model`: a Layer that trains. compile / fit / evaluate / predict and the per-batch steps.

`Model(inputs, outputs)` makes a functional model (see functional.py); subclassing Model and
writing `call` makes a subclassed one. Both share everything here.
"""
from __future__ import annotations

import logging

from ... import nest
from ... import ops
from ...tensor import TensorSpec
from ...autograd import GradientTape
from .. import backend as _backend
from . import data_adapter as _data
from .base_layer import Layer, map_shapes, to_snake_case
from .compile_utils import CompiledLoss, CompiledMetrics, RunningMean, match_targets
from .data_adapter import unpack_x_y_sample_weight
from .functional_config import functional_from_config, takes_functional_arguments
from .keras_json import model_to_keras_json
from .model_file import save_model
from .saving import load_weights, save_weights
from .step_logs import StepLogs


class _CompileState:
    """Everything compile() set; kept out of the layer attributes so optimizer/metric state is not model weights."""

    def __init__(self, optimizer, loss, metrics, weighted_metrics, loss_weights, run_eagerly, jit_compile,
                 steps_per_execution):
        self.optimizer, self.loss_spec, self.metrics_spec = optimizer, loss, metrics
        self.weighted_metrics_spec, self.loss_weights = weighted_metrics, loss_weights
        self.run_eagerly, self.jit_compile = bool(run_eagerly), jit_compile
        self.steps_per_execution = steps_per_execution
        self.functions = {}  # "train" / "test" / "predict" → the step function fit & co. call
        self.loss = self.metrics = None  # matched to the outputs on the first batch
        self.loss_tracker = RunningMean("loss")


def _functional_arguments(args, kwargs) -> bool:
    """Whether a Model constructor was called as `(inputs, outputs)`, positionally or by keyword (Keras's test)."""
    return len(args) >= 2 or ("inputs" in kwargs and "outputs" in kwargs) or (len(args) == 1 and "outputs" in kwargs)


class Model(Layer):
    """A trainable stack of layers with Keras' training API: `compile`, `fit`, `evaluate`, `predict`,
        `train_on_batch`, `summary`, `save`, `get_config`.

        Built functionally (`Model(inputs, outputs)`, which gives a Functional model) or by subclassing (define
        layers in `__init__` and the forward pass in `call`); override `train_step`/`test_step` to customise `fit`.

        `fit`/`evaluate`/`predict` run a gf.function of `train_step`/`test_step`/`predict_step` unless
        `compile(run_eagerly=True)`; `steps_per_execution=N` runs N steps per call.

        Differs from TF:
            `jit_compile` is accepted and changes nothing (every step is compiled the same way); a
            LossScaleOptimizer makes the steps run eagerly. Under a distribution strategy each replica's
            part of a step is compiled (one trace per replica device); splitting the batch and updating the
            metrics run eagerly. Models save to `.keras` files or SavedModel directories (no HDF5).
    """
    _functional = None  # the Functional class (functional.py), which subclasses Model and names itself here

    def __init_subclass__(cls, functional=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if functional:
            Model._functional = cls

    def __new__(cls, *args, **kwargs):
        if cls is Model and _functional_arguments(args, kwargs):
            return object.__new__(Model._functional)
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if _functional_arguments(args, kwargs):
            functional = Model._functional
            if not isinstance(self, functional):
                # A Model subclass given (inputs, outputs), as tf.keras' "customizing fit()" guide does, or from
                # its own __init__ via super().__init__(inputs=..., outputs=...): this instance becomes the
                # subclass with Functional mixed in, so its train_step & co. run on the graph of layers.
                object.__setattr__(self, "__class__", functional._subclass_for(type(self)))
            functional.__init__(self, *args, **kwargs)
            return
        if args or "inputs" in kwargs or "outputs" in kwargs:
            cls = type(self).__name__
            if args or "inputs" in kwargs:
                raise TypeError(f"{cls}: got inputs but no outputs. A functional model needs both: {cls}(inputs, "
                                f"outputs), or {cls}(inputs=..., outputs=...); a subclassed model takes neither and "
                                f"defines call()")
            raise TypeError(f"{cls}: got outputs but no inputs. A functional model needs both: {cls}(inputs, "
                            f"outputs)")
        name = kwargs.pop("name", None) or _backend.unique_name(to_snake_case(type(self).__name__))
        super().__init__(name=name, **kwargs)
        self.stop_training = False
        self.history = None
        self._compiled = None

    # ---------------------------------------------------------------- structure
    @property
    def layers(self):
        return self._layers

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is None and isinstance(name, int):
            name, index = None, name
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: give a name or an index, not both")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range; {self.name} has {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r} in {self.name}; its layers are "
                         f"{', '.join(layer.name for layer in layers)}")

    @property
    def output_names(self):
        return getattr(self, "_output_names", None)

    def build(self, input_shape):
        """Builds a subclassed model by calling it once on symbolic tensors of `input_shape` (abstract evaluation:
        its layers make their weights, no kernel runs)."""
        if type(self).call is Model.call:
            raise NotImplementedError(f"{type(self).__name__} has no call(); subclasses of Model must define "
                                      f"call(self, inputs, training=None)")
        from ...graph.abstract import abstract_specs
        specs = map_shapes(lambda shape: TensorSpec(shape, self._dtype), input_shape)
        saved_losses = {id(layer): list(layer._call_losses) for layer in self._flatten_layers()}
        try:
            abstract_specs(lambda inputs: self._eager_call([inputs], {}), specs,
                           lambda s: s if isinstance(s, TensorSpec) else None)
        finally:  # add_loss values of a symbolic call are not the model's
            for layer in self._flatten_layers():
                layer._call_losses = saved_losses.get(id(layer), [])
        self._build_input_shape, self.built = input_shape, True

    def _maybe_build(self, inputs):
        # A subclassed model's layers build themselves inside call; only a user-written build() runs here.
        if not self.built and type(self).build is not Model.build:
            super()._maybe_build(inputs)
        if self._build_input_shape is None:  # what model.save records, so load_model can build it again
            self._build_input_shape = nest.map_structure(lambda x: getattr(x, "shape", None), inputs)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        raise NotImplementedError(f"{type(self).__name__} has no call(); subclasses of Model must define "
                                  f"call(self, inputs, training=None)")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
        from .summary import print_summary
        print_summary(self, line_length=line_length, print_fn=print_fn)

    def save_weights(self, filepath, overwrite=True):
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "nodes" in config and "layers" in config and takes_functional_arguments(cls):
            return functional_from_config(cls, config, custom_objects)
        # A subclassed model, or a functional subclass whose own __init__ takes other arguments (Keras does the same).
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(f"{cls.__name__}.from_config: cannot make a {cls.__name__} from its config ({e}). A "
                            f"subclass whose __init__ takes its own arguments must return them from get_config(), "
                            f"or define a from_config classmethod that builds it") from e

    def save(self, filepath, overwrite=True, **kwargs):
        """Keras 3's whole-model `.keras` file: a zip of the JSON config (and compile config) and the weights and
        optimizer state as safetensors; see model_file.py. A path without an extension writes a SavedModel
        directory, as TF2 Keras does (gpuflow/saved_model). Nothing is pickled."""
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def to_json(self, **kwargs):
        """The model's architecture (no weights) as a JSON string in Keras 3's layout; `kwargs` go to json.dumps.
        `gf.keras.models.model_from_json` makes the model again; see keras_json.py."""
        return model_to_keras_json(self, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=True, input_signature=None, **kwargs):  # noqa: A002
        """Keras 3's model.export: an inference artifact, a SavedModel directory by default, or 'onnx' / 'tflite'
        files; see export.py."""
        from .export import export_model
        return export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature,
                            **kwargs)

    # ---------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, auto_scale_loss=True, **kwargs):
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        steps_per_execution = 1 if steps_per_execution is None else steps_per_execution
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"compile: steps_per_execution must be an int >= 1, got {steps_per_execution!r}")
        if not hasattr(optimizer, "apply_gradients"):
            from .. import optimizers
            optimizer = optimizers.get(optimizer)
        from ..optimizers import LossScaleOptimizer, Optimizer
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16" and isinstance(optimizer, Optimizer) \
                and not isinstance(optimizer, LossScaleOptimizer):
            # Keras 3: float16 gradients underflow without loss scaling (bfloat16 has float32's range: no need).
            optimizer = LossScaleOptimizer(optimizer, name="loss_scale_optimizer")
        self._compiled = _CompileState(optimizer, loss, metrics, weighted_metrics, loss_weights, run_eagerly,
                                       True if jit_compile is None else jit_compile, steps_per_execution)
        self.stop_training = False

    @property
    def optimizer(self):
        return self._compiled.optimizer if self._compiled else None

    @property
    def run_eagerly(self) -> bool:
        """Whether fit/evaluate/predict call train_step & co. directly instead of a gf.function of them."""
        from ...graph import functions_run_eagerly
        return bool(self._compiled and self._compiled.run_eagerly) or functions_run_eagerly()

    # ---------------------------------------------------------------- step functions
    @property
    def train_function(self):
        """What fit calls per step once it has run (Keras' attribute): a gf.function, or train_step itself when
        running eagerly; None before."""
        return self._compiled.functions.get("train") if self._compiled else None

    def make_train_function(self, force=False):
        """The function fit calls per batch (per steps_per_execution batches): train_step, compiled by default."""
        return self._step_function("train", self.train_step, force)

    def make_test_function(self, force=False):
        return self._step_function("test", self.test_step, force)

    def make_predict_function(self, force=False):
        return self._step_function("predict", self.predict_step, force)

    def _step_function(self, kind, step, force):
        state = self._compiled
        cache = state.functions if state is not None else self.__dict__.setdefault("_uncompiled_functions", {})
        fn = cache.get(kind)
        if fn is None or force:
            fn = cache[kind] = self._new_step_function(kind, step)
        return fn

    def _steps_per_call(self, kind) -> int:
        """How many batches one call of the `kind` step function takes (a list of them when more than one)."""
        return self._compiled.steps_per_execution if self._compiled is not None and kind != "predict" else 1

    def _new_step_function(self, kind, step):
        from ...distribute import keras_step
        from ...graph import Function
        eager = self.run_eagerly
        if not eager and kind == "train" and type(self.optimizer).__name__ == "LossScaleOptimizer":
            # Its skip-or-apply decision is a host read of the gradients' finiteness each step: not traced yet.
            _log_once("a LossScaleOptimizer (mixed_float16) trains eagerly: its dynamic loss scaling is not traced "
                      "yet")
            eager = True
        if keras_step.strategy_of(self, compiled=kind != "predict") is not None:
            # Under a gf.distribute strategy: the replicated step runs in cross-replica context, each replica's
            # part of it a gf.function (keras_step.py) unless eager.
            step, eager = getattr(keras_step, f"{kind}_function")(self, compiled=not eager), True

        def steps(batches):  # steps_per_execution: n batches per call, the logs of the last
            logs = None
            for batch in batches:
                logs = step(batch)
            return logs
        body = steps if self._steps_per_call(kind) > 1 else step
        return body if eager else Function(body, name=f"{kind}_function")

    @property
    def metrics_names(self):
        if not self._compiled:
            return []
        state = self._compiled
        names = ["loss"] + [t.name for t in (state.loss.trackers.values() if state.loss else [])]
        return names + [entry[0] for entry in ((state.metrics.entries if state.metrics else None) or [])]

    def _require_compiled(self, what):
        if self._compiled is None:
            raise RuntimeError(f"{what}: compile the model first, e.g. model.compile(optimizer='adam', loss='mse')")

    def _match(self, y, y_pred):
        """Per-output lists of targets and predictions; sets up the loss and metrics on the first batch."""
        state = self._compiled
        flat_pred = nest.flatten(y_pred)
        names = self.output_names
        if names is None or len(names) != len(flat_pred):
            names = sorted(y_pred) if isinstance(y_pred, dict) else [f"output_{i + 1}" for i in range(len(flat_pred))]
        if state.loss is None:
            state.loss = CompiledLoss(state.loss_spec, state.loss_weights, names)
            state.metrics = CompiledMetrics(state.metrics_spec, state.weighted_metrics_spec, names, state.loss.losses)
        return match_targets(y, names, y_pred), flat_pred

    @staticmethod
    def _sample_weights(sample_weight, n):
        if isinstance(sample_weight, (list, tuple)) and n > 1:
            return list(sample_weight)
        if isinstance(sample_weight, dict):
            raise ValueError("sample_weight as a dict is not supported; give one array (all outputs) or a list")
        return [sample_weight] * n

    # ---------------------------------------------------------------- steps
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras 3's hook: the compiled losses on (y, y_pred) plus `model.losses` (regularisation, add_loss), as a
        scalar tensor; also adds the batch to the `loss` (and per-output loss) means shown in the logs."""
        self._require_compiled("compute_loss")
        targets, preds = self._match(y, y_pred)
        loss, parts = self._compiled.loss(targets, preds, self._sample_weights(sample_weight, len(preds)))
        extra = [ops.convert_to_tensor(v) for v in self.losses]
        if extra:
            extra = ops.add_n([ops.cast(v, (loss if loss is not None else extra[0]).dtype) for v in extra])
            loss = extra if loss is None else loss + extra
        if loss is None:
            raise ValueError("compile was given no loss and the model adds none (add_loss); pass loss=... (a name "
                             "like 'mse' or a callable) to compile")
        batch = float(preds[0].shape[0]) if preds[0].ndim else 1.0
        self._compiled.loss_tracker.update_state(loss, batch)
        self._compiled.loss.update_trackers(parts, batch)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Keras 3's hook: updates the compiled metrics with the batch and returns the logs so far."""
        targets, preds = self._match(y, y_pred)
        self._compiled.metrics.update_state(targets, preds, self._sample_weights(sample_weight, len(preds)))
        return self.get_metrics_result()

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self._require_compiled("fit")
        optimizer = self._compiled.optimizer
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            if hasattr(optimizer, "scale_loss"):  # Keras 3: a LossScaleOptimizer's scale (others: the loss itself)
                loss = optimizer.scale_loss(loss)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self._compiled.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def get_metrics_result(self):
        state = self._compiled
        logs = {"loss": state.loss_tracker.result()}
        for tracker in state.loss.trackers.values() if state.loss else []:
            logs[tracker.name] = tracker.result()
        logs.update(state.metrics.results() if state.metrics else {})
        return logs

    @property
    def metrics(self):
        """The loss means and the compiled metrics (those matched to outputs once a batch has been seen)."""
        state = self._compiled
        if state is None:
            return []
        out = [state.loss_tracker] + list(state.loss.trackers.values() if state.loss else [])
        return out + [entry[1] for entry in ((state.metrics.entries if state.metrics else None) or [])]

    @property
    def compiled_loss(self):
        """tf.keras 2's `self.compiled_loss(y, y_pred, sample_weight, regularization_losses)` for custom train_steps."""
        return _CompiledLossView(self) if self._compiled else None

    @property
    def compiled_metrics(self):
        """tf.keras 2's `self.compiled_metrics.update_state(y, y_pred, sample_weight)` for custom train_steps."""
        return _CompiledMetricsView(self) if self._compiled else None

    def reset_metrics(self):
        # Every metric in `self.metrics`, as Keras does: a subclass that overrides `metrics` with its own trackers
        # (the "customizing fit()" guide's loss_tracker) gets them reset at each epoch too.
        for metric in self.metrics:
            metric.reset_state()
        state = self._compiled
        if state is None:
            return
        state.loss_tracker.reset_state()
        for tracker in state.loss.trackers.values() if state.loss else []:
            tracker.reset_state()
        if state.metrics:
            state.metrics.reset_state()

    # ---------------------------------------------------------------- loops
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1, **kwargs):
        from .loops import fit
        return fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                   class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                   validation_batch_size, validation_freq, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        from .loops import evaluate
        return evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        from .loops import predict
        return predict(self, x, batch_size, verbose, steps, callbacks, **kwargs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True, return_dict=False):
        self._require_compiled("train_on_batch")
        if class_weight is not None:
            sample_weight = _data.class_weight_to_sample_weight(y, class_weight)
        if reset_metrics:
            self.reset_metrics()
        logs = StepLogs(self._one_step("train", _data.pack(x, y, sample_weight)))
        return _format_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        self._require_compiled("test_on_batch")
        if reset_metrics:
            self.reset_metrics()
        logs = StepLogs(self._one_step("test", _data.pack(x, y, sample_weight)))
        return _format_result(logs, return_dict)

    def predict_on_batch(self, x):
        out = self._one_step("predict", _data.pack(x))
        return nest.map_structure(lambda t: t.numpy(), out)

    def _one_step(self, kind, batch):
        """One batch through the step function of `kind` (steps_per_execution does not apply to *_on_batch)."""
        fn = getattr(self, f"make_{kind}_function")()
        return fn([batch]) if self._steps_per_call(kind) > 1 else fn(batch)


_said = set()


def _log_once(message):
    if message not in _said:
        _said.add(message)
        logging.getLogger("gpuflow").info("gpuflow: %s", message)


def _format_result(logs, return_dict):
    if return_dict:
        return dict(logs)
    values = [float(v) for v in logs.values()]
    return values[0] if len(values) == 1 else values


class _CompiledLossView:
    def __init__(self, model):
        self._model = model

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        model = self._model
        targets, preds = model._match(y_true, y_pred)
        loss, parts = model._compiled.loss(targets, preds, model._sample_weights(sample_weight, len(preds)))
        for extra in regularization_losses or []:
            loss = extra if loss is None else loss + ops.cast(ops.convert_to_tensor(extra), loss.dtype)
        batch = float(preds[0].shape[0]) if preds[0].ndim else 1.0
        model._compiled.loss_tracker.update_state(loss, batch)
        model._compiled.loss.update_trackers(parts, batch)
        return loss


class _CompiledMetricsView:
    def __init__(self, model):
        self._model = model

    def update_state(self, y_true, y_pred, sample_weight=None):
        model = self._model
        targets, preds = model._match(y_true, y_pred)
        model._compiled.metrics.update_state(targets, preds, model._sample_weights(sample_weight, len(preds)))
