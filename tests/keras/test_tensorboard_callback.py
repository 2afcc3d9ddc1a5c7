"""gf.keras.callbacks.TensorBoard: the runs, tags, steps and values Keras writes, read back with tensorboard's
EventAccumulator (and the conceptual graph with the graph plugin's own Keras parser)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import gpuflow as gf

tb = pytest.importorskip("tb_events", reason='tensorboard is not installed (pip install "gpuflow[interop]")')
pytest.importorskip("PIL.Image", reason='Pillow is not installed (pip install "gpuflow[interop]")')

pytestmark = pytest.mark.interop


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 6), dtype=np.float32), rng.integers(0, 3, n).astype(np.int32)


def _model():
    gf.keras.utils.set_random_seed(0)
    model = gf.keras.Sequential([gf.keras.layers.Dense(5, activation="relu", input_shape=(6,), name="hidden"),
                                 gf.keras.layers.Dense(3, name="logits")])
    model.compile(optimizer=gf.keras.optimizers.Adam(0.01),
                  loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def _steps(acc, tag):
    return [step for step, _ in tb.series(acc, tag)]


def _values(acc, tag):
    return [float(value) for _, value in tb.series(acc, tag)]


def test_fit_with_validation_and_update_freq_2(tmp_path):
    x, y = _data(96)            # 3 batches of 32 per epoch: batches 1..6 over two epochs
    xv, yv = _data(40, seed=1)
    batch_logs = {}
    record = gf.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch_logs.setdefault(len(batch_logs) + 1, dict(logs)))
    board = gf.keras.callbacks.TensorBoard(tmp_path, update_freq=2, write_steps_per_second=True)
    history = _model().fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv), callbacks=[board, record],
                           verbose=0)

    train, validation = tb.load(tmp_path / "train"), tb.load(tmp_path / "validation")
    assert tb.tags(train) == {"keras", "batch_loss", "batch_accuracy", "batch_steps_per_second", "epoch_loss",
                              "epoch_accuracy", "epoch_learning_rate", "epoch_steps_per_second"}
    assert tb.tags(validation) == {"epoch_loss", "epoch_accuracy", "evaluation_loss_vs_iterations",
                                   "evaluation_accuracy_vs_iterations"}
    # Every second batch, counted across epochs (batch 2 of epoch 0, then batch 1 of epoch 1, ...)
    for tag in ("batch_loss", "batch_accuracy", "batch_steps_per_second"):
        assert _steps(train, tag) == [2, 4, 6]
    np.testing.assert_allclose(_values(train, "batch_loss"), [batch_logs[s]["loss"] for s in (2, 4, 6)], rtol=1e-6)
    assert all(v > 0 for v in _values(train, "batch_steps_per_second"))
    for tag in ("epoch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_steps_per_second"):
        assert _steps(train, tag) == [0, 1]
    np.testing.assert_allclose(_values(train, "epoch_loss"), history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(_values(train, "epoch_accuracy"), history.history["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(_values(train, "epoch_learning_rate"), [0.01, 0.01], rtol=1e-6)
    np.testing.assert_allclose(_values(validation, "epoch_loss"), history.history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(_values(validation, "epoch_accuracy"), history.history["val_accuracy"], rtol=1e-6)
    assert _steps(validation, "evaluation_loss_vs_iterations") == [3, 6]  # the optimizer's step count
    np.testing.assert_allclose(_values(validation, "evaluation_loss_vs_iterations"), history.history["val_loss"],
                               rtol=1e-6)
    assert tb.plugin(train, "epoch_loss") == "scalars"


def test_default_update_freq_writes_epochs_only_and_no_validation_run(tmp_path):
    x, y = _data(64)
    _model().fit(x, y, batch_size=32, epochs=3, callbacks=[gf.keras.callbacks.TensorBoard(tmp_path)], verbose=0)
    train = tb.load(tmp_path / "train")
    assert tb.tags(train) == {"keras", "epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert _steps(train, "epoch_loss") == [0, 1, 2]
    assert not (tmp_path / "validation").exists()


def test_weight_histograms_and_images(tmp_path):
    x, y = _data(64)
    model = _model()
    board = gf.keras.callbacks.TensorBoard(tmp_path, histogram_freq=2, write_images=True, write_graph=False)
    model.fit(x, y, batch_size=32, epochs=3, callbacks=[board], verbose=0)
    train = tb.load(tmp_path / "train")
    # name: (shape, image width x height): Keras draws a bias as one column, a kernel wider than tall
    weights = {"hidden/kernel": ((6, 5), (6, 5)), "hidden/bias": ((5,), (1, 5)),
               "logits/kernel": ((5, 3), (5, 3)), "logits/bias": ((3,), (1, 3))}
    assert {t for t in tb.tags(train) if not t.startswith("epoch_")} == (
        {f"{w}/histogram" for w in weights} | {f"{w}/image" for w in weights})
    for name, (shape, (width, height)) in weights.items():
        assert tb.plugin(train, f"{name}/histogram") == "histograms"
        assert _steps(train, f"{name}/histogram") == [0, 2]  # every histogram_freq epochs
        last = tb.series(train, f"{name}/histogram")[-1][1]
        assert last[:, 2].sum() == np.prod(shape)
        layer, kind = name.split("/")
        value = getattr(model.get_layer(layer), kind).numpy()
        assert (last[0, 0], last[-1, 1]) == pytest.approx((value.min(), value.max()))
        assert _steps(train, f"{name}/image") == [0, 2]
        image = tb.series(train, f"{name}/image")[-1][1]
        assert (int(image[0]), int(image[1]), len(image)) == (width, height, 3)
        assert tb.plugin(train, f"{name}/image") == "images"


def test_conceptual_graph_is_what_the_graph_plugin_draws(tmp_path):
    from tensorboard.plugins.graph import keras_util
    inputs = gf.keras.Input((6,), name="features")
    left = gf.keras.layers.Dense(4, name="left")(inputs)
    right = gf.keras.layers.Dense(4, name="right")(inputs)
    merged = gf.keras.layers.Add(name="merge")([left, right])
    outputs = gf.keras.layers.Dense(3, name="out")(merged)
    model = gf.keras.Model(inputs, outputs, name="twin")
    model.compile("sgd", "mse")
    x = np.ones((8, 6), np.float32)
    model.fit(x, np.zeros((8, 3), np.float32), epochs=1, verbose=0,
              callbacks=[gf.keras.callbacks.TensorBoard(tmp_path)])

    train = tb.load(tmp_path / "train")
    assert tb.plugin(train, "keras") == "graph_keras_model"
    [(step, text)] = tb.series(train, "keras")
    graph = keras_util.keras_model_to_graph_def(json.loads(text.item()))
    edges = {node.name: list(node.input) for node in graph.node}
    assert edges == {"twin/features": [], "twin/left": ["twin/features"], "twin/right": ["twin/features"],
                     "twin/merge": ["twin/left", "twin/right"], "twin/out": ["twin/merge"]}
    assert {node.attr["keras_class"].s for node in graph.node} == {b"InputLayer", b"Dense", b"Add"}


def test_batch_summaries_written_inside_the_model_follow_update_freq(tmp_path):
    class Probe(gf.keras.layers.Layer):
        def call(self, inputs):
            gf.summary.scalar("probe_mean", gf.reduce_mean(inputs))
            return inputs

    gf.keras.utils.set_random_seed(0)
    model = gf.keras.Sequential([gf.keras.layers.Dense(3, input_shape=(6,)), Probe()])
    model.compile("sgd", "mse")
    x, _ = _data(96)
    model.fit(x, np.zeros((96, 3), np.float32), batch_size=32, epochs=2, verbose=0,
              callbacks=[gf.keras.callbacks.TensorBoard(tmp_path, update_freq=2, write_graph=False)])
    assert _steps(tb.load(tmp_path / "train"), "probe_mean") == [2, 4, 6]
    assert gf.summary.experimental.get_step() is None  # fit leaves no default step behind
    assert not gf.summary.should_record_summaries()


def test_evaluate_alone_writes_to_validation(tmp_path):
    x, y = _data(64)
    model = _model()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # 2 optimizer steps
    model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[gf.keras.callbacks.TensorBoard(tmp_path)])
    validation = tb.load(tmp_path / "validation")
    assert tb.tags(validation) == {"evaluation_loss_vs_iterations", "evaluation_accuracy_vs_iterations"}
    assert _steps(validation, "evaluation_loss_vs_iterations") == [2]


def test_embeddings_go_to_the_projector(tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins.projector import projector_config_pb2, projector_plugin
    gf.keras.utils.set_random_seed(0)
    model = gf.keras.Sequential([gf.keras.layers.Embedding(7, 4, input_shape=(5,), name="words"),
                                 gf.keras.layers.GlobalAveragePooling1D(), gf.keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    ids = np.random.default_rng(0).integers(0, 7, (16, 5)).astype(np.int32)
    board = gf.keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1, embeddings_metadata={"words": "words.tsv"})
    model.fit(ids, np.zeros((16, 2), np.float32), epochs=2, verbose=0, callbacks=[board])

    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(),
                               projector_config_pb2.ProjectorConfig())
    [embedding] = config.embeddings
    assert (embedding.tensor_name, list(embedding.tensor_shape), embedding.metadata_path) == (
        "words/embeddings", [7, 4], "words.tsv")
    table = projector_plugin._read_tensor_tsv_file(str(tmp_path / embedding.tensor_path))
    np.testing.assert_allclose(table, model.get_layer("words").embeddings.numpy(), rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="profile_batch must be"):
        gf.keras.callbacks.TensorBoard(profile_batch=-1)
    with pytest.raises(ValueError, match="profile_batch must be"):
        gf.keras.callbacks.TensorBoard(profile_batch=(4, 2))
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch'"):
        gf.keras.callbacks.TensorBoard(update_freq=0)
    with pytest.raises(ValueError, match="histogram_freq must be"):
        gf.keras.callbacks.TensorBoard(histogram_freq=-1)
    assert gf.keras.callbacks.TensorBoard(update_freq="batch").update_freq == 1
    assert gf.keras.callbacks.TensorBoard(profile_batch=0).log_dir == "logs"


def test_the_compiled_train_step_graph_is_written(tmp_path):
    x, y = _data(32)
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[gf.keras.callbacks.TensorBoard(tmp_path)])
    graph = tb.load(tmp_path / "train").Graph()  # the GraphDef of the traced step, as TensorBoard reads it
    ops = {node.op for node in graph.node}
    assert {"Placeholder", "matmul", "bias_act", "adam_update", "assign_variable"} <= ops
    names = {node.name for node in graph.node}
    assert all(inp.split(":")[0].lstrip("^") in names for node in graph.node for inp in node.input)


def _profiled_matmuls(tmp_path, profile_batch):
    x, y = _data(64)
    with gf.device("sim"):
        model = _model()
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False,
                  callbacks=[gf.keras.callbacks.TensorBoard(tmp_path, profile_batch=profile_batch)])
    (trace,) = (tmp_path / "train" / "plugins" / "profile").glob("*/*.trace.json")  # where Keras puts it
    events = json.loads(trace.read_text())["traceEvents"]
    tracks = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert "default stream" in tracks
    return sum(e["name"] == "matmul" for e in events if e["ph"] == "X")


def test_profile_batch_writes_a_trace_of_those_batches(tmp_path):
    one = _profiled_matmuls(tmp_path / "one", 2)         # batch 2 only
    two = _profiled_matmuls(tmp_path / "two", "2,3")     # batches 2 and 3
    assert one > 0 and two == 2 * one  # each profiled step's GEMMs, on the sim device's compute track
