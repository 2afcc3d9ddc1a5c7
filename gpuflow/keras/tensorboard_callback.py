"""`gf.keras.callbacks.TensorBoard`: Keras' TensorBoard callback over gf.summary.

What lands where is Keras': run folders `<log_dir>/train` and `<log_dir>/validation`; `epoch_loss`,
`epoch_<metric>`, `epoch_learning_rate` (and `epoch_steps_per_second`) per epoch; `batch_<name>` every
`update_freq` batches at the global batch number; `evaluation_<name>_vs_iterations` in validation/ at the
optimizer's iteration count; weight histograms `<layer>/<weight>/histogram` (and `.../image`) every
`histogram_freq` epochs; the conceptual graph as the `keras` tag of the `graph_keras_model` plugin.
Writers are made when first needed, so a fit without validation makes no validation/ folder.
"""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np

from .. import summary
from ..summary._state import default_writer
from ..summary._tensorboard import require
from .callbacks import Callback, _current_lr


def _profile_range(profile_batch):
    """Keras' forms (an int, a (start, stop) pair, or "start,stop") as (first, last) global batch numbers to
    profile (1-based, inclusive), or None for 0 (no profiling)."""
    value = profile_batch
    if isinstance(value, str):
        try:
            value = [int(part) for part in value.split(",")]
        except ValueError:
            value = None
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    valid = (isinstance(value, int) and value >= 0) or (
        isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value)
        and 0 < value[0] <= value[1])
    if not valid:
        raise ValueError(f"TensorBoard: profile_batch must be a non-negative integer or a pair of positive "
                         f"integers (start, stop), got {profile_batch!r}")
    if value == 0:
        return None
    return (value, value) if isinstance(value, int) else tuple(value)


def _weight_tag(variable) -> str:
    """`dense/kernel` for the variable `dense/kernel:0`: Keras 3's weight path, without the ':0' of TF names."""
    name = variable.name[:-2] if variable.name.endswith(":0") else variable.name
    return name.replace(":", "_")


def weight_image(values: np.ndarray):
    """A weight as Keras lays it out for an image summary ([k, h, w, 1]), or None where Keras draws none
    (a 4-D kernel that does not squeeze to 3-D). Unlike Keras, values are scaled to [0, 1] by the weight's
    own min and max: unscaled, TensorBoard clips every negative weight to black."""
    w = np.squeeze(values).astype(np.float32)
    if w.ndim == 1:  # a bias: one column
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:  # a Dense kernel, wider than tall
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:  # a conv kernel: one image per channel (channels_last)
        w = np.transpose(w, (2, 0, 1))[..., None]
    else:
        return None
    lo, hi = float(w.min()), float(w.max())
    return (w - lo) / (hi - lo) if hi > lo else np.zeros_like(w)


class TensorBoard(Callback):
    """Log training to TensorBoard: `model.fit(..., callbacks=[gf.keras.callbacks.TensorBoard("logs")])`,
    then `tensorboard --logdir logs`. Arguments as in Keras; needs `pip install "gpuflow[interop]"`."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive number of batches, "
                             f"got {update_freq!r}")
        for name, value in (("histogram_freq", histogram_freq), ("embeddings_freq", embeddings_freq)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"TensorBoard: {name} must be a non-negative number of epochs, got {value!r}")
        self._profile = _profile_range(profile_batch)
        self._profiling = False
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph, self.write_images = histogram_freq, write_graph, write_images
        self.write_steps_per_second, self.update_freq = write_steps_per_second, update_freq
        self.embeddings_freq, self.embeddings_metadata = embeddings_freq, embeddings_metadata
        self._writers = {}
        self._pushed = []  # ExitStacks of the writer made default for summaries written inside a step
        self._global_train_batch = self._global_test_batch = 0
        self._epoch_start_time = self._batch_start_time = 0.0
        self._epoch_start_batch = 0
        self._graph_written = False

    # -- writers -------------------------------------------------------------------------------------------
    def _writer(self, run):
        if run not in self._writers:
            self._writers[run] = summary.create_file_writer(os.path.join(self.log_dir, run))
        return self._writers[run]

    @contextlib.contextmanager
    def _recording(self, run, step):
        """Write to `run` at `step` whatever record_if a step pushed (tf.keras' record_if(True) around its own
        logs); no flush here: writers flush at each epoch's end and when closed."""
        with summary.record_if(True), default_writer(self._writer(run), step):
            yield

    def _flush_writers(self):
        for writer in self._writers.values():
            writer.flush()

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _push_writer(self, run, counter):
        """With an integer update_freq, make `run`'s writer the default while steps run, so summaries a
        model writes inside its call are recorded every update_freq batches, at the batch number (Keras)."""
        if self.update_freq == "epoch":
            return
        stack = contextlib.ExitStack()
        stack.enter_context(self._writer(run).as_default(step=getattr(self, counter)))
        stack.enter_context(summary.record_if(lambda: getattr(self, counter) % self.update_freq == 0))
        self._pushed.append(stack)

    def _pop_writer(self):
        if self.update_freq != "epoch" and self._pushed:
            self._pushed.pop().close()

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()  # a new model: its runs start with fresh event files, as Keras resets them

    # -- training --------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._graph_written = False
        if self.write_graph:
            self._write_keras_model_graph()
        if self.embeddings_freq:
            self._configure_embeddings()
        self._push_writer("train", "_global_train_batch")

    def on_train_end(self, logs=None):
        if self._profiling:  # training ended inside the profiled range
            self._stop_profiling()
        self._pop_writer()
        self._close_writers()

    def _stop_profiling(self):
        from .. import profiler
        self._profiling = False
        profiler.stop()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start_time, self._epoch_start_batch = time.time(), self._global_train_batch

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self._profile and self._global_train_batch == self._profile[0]:
            from .. import profiler  # the trace goes where Keras puts it: <log_dir>/train/plugins/profile/...
            profiler.start(os.path.join(self.log_dir, "train"))
            self._profiling = True
        if self.update_freq != "epoch":
            summary.experimental.set_step(self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self._profiling and self._global_train_batch >= self._profile[1]:
            self._stop_profiling()
        if self.write_graph and not self._graph_written:
            self._graph_written = True  # as Keras: the step is traced by the first batch, or never
            self._write_traced_step_graph()
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        with self._recording("train", self._global_train_batch):
            if self.write_steps_per_second:
                summary.scalar("batch_steps_per_second", 1.0 / max(time.time() - self._batch_start_time, 1e-9))
            for name, value in (logs or {}).items():
                summary.scalar("batch_" + name, value)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, dict(logs or {}))
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings()
        self._flush_writers()  # an epoch's events are on disk when it ends: TensorBoard shows them live

    def _log_epoch_metrics(self, epoch, logs):
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if getattr(self.model, "optimizer", None) is not None:
            train["learning_rate"] = _current_lr(self.model.optimizer)
        if self.write_steps_per_second:
            batches = self._global_train_batch - self._epoch_start_batch
            train["steps_per_second"] = batches / max(time.time() - self._epoch_start_time, 1e-9)
        for run, values in (("train", train), ("validation", validation)):
            if values:
                with self._recording(run, epoch):
                    for name, value in values.items():
                        summary.scalar("epoch_" + name, value)

    def _log_weights(self, epoch):
        with self._recording("train", epoch):
            for layer in self.model.layers:
                for weight in layer.weights:
                    tag = _weight_tag(weight)
                    values = weight.numpy()  # one device read serves the histogram and the image
                    summary.histogram(tag + "/histogram", values)
                    if self.write_images:
                        image = weight_image(values)
                        if image is not None:
                            summary.image(tag + "/image", image)

    # -- evaluation ----------------------------------------------------------------------------------------
    def on_test_begin(self, logs=None):
        self._push_writer("validation", "_global_test_batch")

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            summary.experimental.set_step(self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            iterations = optimizer._step() if hasattr(optimizer, "_step") else int(np.asarray(optimizer.iterations))
            with self._recording("validation", iterations):
                for name, value in (logs or {}).items():
                    summary.scalar(f"evaluation_{name}_vs_iterations", value)
        self._pop_writer()
        self._flush_writers()

    # -- graphs --------------------------------------------------------------------------------------------
    def _write_keras_model_graph(self):
        """The conceptual graph (Keras' `keras_model_summary`): the model's JSON config under the tag
        `keras`, which TensorBoard's Graphs dashboard draws layer by layer. Sequential and functional
        models only, as in Keras: a subclassed model's config does not describe its graph."""
        from .engine.functional import Functional
        from .engine.keras_json import model_to_keras_json
        from .engine.sequential import Sequential
        if not isinstance(self.model, (Sequential, Functional)):
            return
        summary_pb2 = require("compat.proto.summary_pb2", "TensorBoard(write_graph=True)")
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1"))
        with self._recording("train", 0):
            summary.write("keras", model_to_keras_json(self.model, flat_io=True), metadata=metadata)

    def _write_traced_step_graph(self):
        """The op graph of the compiled train step, after the first batch, when fit has traced one
        (the IR graph of `model.train_function`'s latest trace); eager training has none."""
        traces = getattr(getattr(self.model, "train_function", None), "concrete_functions", None)
        graph = traces[-1].graph if traces else None
        if graph is not None:
            with self._recording("train", 0):
                summary.graph(graph)

    # -- embeddings ----------------------------------------------------------------------------------------
    def _embedding_layers(self):
        from .layers import Embedding
        return [layer for layer in self.model.layers if isinstance(layer, Embedding)]

    def _configure_embeddings(self):
        """The projector's config: each Embedding layer's table as a TSV file the projector reads itself
        (Keras points at a TF checkpoint, which TensorBoard cannot read without TensorFlow)."""
        projector = require("plugins.projector", "TensorBoard(embeddings_freq=...)")
        metadata = self.embeddings_metadata
        if isinstance(metadata, dict):
            unknown = sorted(set(metadata) - {layer.name for layer in self._embedding_layers()})
            if unknown:
                raise ValueError(f"TensorBoard: embeddings_metadata names {', '.join(unknown)}, which are not "
                                 f"Embedding layers of the model")
        config = projector.ProjectorConfig()
        for layer in self._embedding_layers():
            embedding = config.embeddings.add(tensor_name=f"{layer.name}/embeddings",
                                              tensor_path=f"{layer.name}.embeddings.tsv")
            embedding.tensor_shape.extend([layer.input_dim, layer.output_dim])
            path = metadata if isinstance(metadata, str) else (metadata or {}).get(layer.name)
            if path:
                embedding.metadata_path = path
        os.makedirs(self.log_dir, exist_ok=True)
        projector.visualize_embeddings(self.log_dir, config)

    def _log_embeddings(self):
        for layer in self._embedding_layers():
            table = layer.embeddings.numpy().astype(np.float32)
            np.savetxt(os.path.join(self.log_dir, f"{layer.name}.embeddings.tsv"), table, delimiter="\t",
                       fmt="%.7g")
