import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import callbacks as cb
from gpuflow.keras.engine.compile_utils import CompiledMetrics
from gpuflow.keras.engine.input_layer import Input
from gpuflow.keras.models import Model, Sequential
from gpuflow.keras.optimizers import SGD

from _engine_helpers import Lin, mse


def _linear_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.25
    return x, y


def _regressor(lr=0.1, **lin_kwargs):
    model = Sequential([Lin(1, input_shape=(3,), **lin_kwargs)])
    model.compile(optimizer=SGD(learning_rate=lr), loss="mse")
    return model


def test_fit_converges_on_linear_regression_and_returns_history():
    x, y = _linear_data()
    model = _regressor()
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0, validation_split=0.25)
    assert history is model.history and history.epoch == list(range(15))
    assert sorted(history.history) == ["loss", "val_loss"] and len(history.history["loss"]) == 15
    assert history.history["loss"][-1] < 1e-3 < history.history["loss"][0]
    np.testing.assert_allclose(model.layers[0].kernel.numpy().ravel(), [1.0, -2.0, 0.5], atol=0.05)
    assert model.evaluate(x, y, verbose=0) < 1e-3


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.ones((10, 3), np.float32)
    y = np.zeros((10, 1), np.float32)
    y[8:] = 10.0  # the last 20%: the only nonzero targets
    model = _regressor(lr=0.0, kernel_initializer="zeros")
    logs = model.fit(x, y, epochs=1, validation_split=0.2, shuffle=True, verbose=0).history
    assert logs["loss"] == [0.0] and logs["val_loss"] == [100.0]


def test_callback_hooks_run_in_keras_order():
    calls = []
    hooks = {name: (lambda name: lambda *args: calls.append(name))(name)
             for name in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
                          "on_test_begin", "on_test_batch_end", "on_test_end", "on_epoch_end", "on_train_end")}
    x, y = _linear_data(8)
    _regressor().fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=(x[:2], y[:2]),
                     callbacks=[cb.LambdaCallback(**hooks)])
    epoch = ["on_epoch_begin"] + ["on_train_batch_begin", "on_train_batch_end"] * 2 + [
        "on_test_begin", "on_test_batch_end", "on_test_end", "on_epoch_end"]
    assert calls == ["on_train_begin"] + epoch * 2 + ["on_train_end"]


def test_fit_sets_model_and_params_and_adds_history():
    mine = cb.Callback()
    seen = []
    x, y = _linear_data(8)
    model = _regressor()
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[mine, cb.LambdaCallback(
        on_train_begin=lambda logs: seen.append(logs))])
    assert mine.model is model and mine.params["epochs"] == 1 and mine.params["steps"] == 1
    assert isinstance(history, cb.History) and history is not mine and seen == [{}]


def test_early_stopping_restores_the_best_weights():
    model = _regressor()
    stop = cb.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    stop.set_model(model)
    stop.on_train_begin()
    snapshots = []
    for epoch, val_loss in enumerate([0.9, 0.5, 0.6, 0.7, 0.8]):
        model.set_weights([np.full((3, 1), epoch, np.float32), np.full((1,), epoch, np.float32)])
        snapshots.append(model.get_weights())
        stop.on_epoch_end(epoch, {"val_loss": val_loss})
        if model.stop_training:
            break
    assert epoch == 3 and stop.stopped_epoch == 3 and stop.best_epoch == 1
    np.testing.assert_array_equal(model.get_weights()[0], snapshots[1][0])


def test_early_stopping_stops_fit():
    x, y = _linear_data(32)
    history = _regressor(lr=0.0).fit(x, y, epochs=10, verbose=0, callbacks=[cb.EarlyStopping("loss", patience=1)])
    assert len(history.epoch) == 2  # no improvement after the first epoch (lr=0): one epoch of patience


def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    model = _regressor()
    check = cb.ModelCheckpoint(str(tmp_path / "ckpt_{epoch:02d}_{val_loss:.2f}.weights.h5"), save_best_only=True)
    check.set_model(model)
    for epoch, val_loss in enumerate([1.0, 2.0, 0.5, 0.5]):
        check.on_epoch_begin(epoch)
        check.on_epoch_end(epoch, {"val_loss": val_loss, "loss": 0.1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt_01_1.00.weights.h5", "ckpt_03_0.50.weights.h5"]
    other = _regressor()
    other.load_weights(tmp_path / "ckpt_03_0.50.weights.h5")
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def test_model_checkpoint_unknown_log_name_is_explained(tmp_path):
    check = cb.ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.weights.h5"))
    check.set_model(_regressor())
    with pytest.raises(KeyError, match="val_acc"):
        check.on_epoch_end(0, {"loss": 1.0})


def test_terminate_on_nan_stops_and_names_the_batch(capsys):
    x, y = _linear_data(64)
    y[:] = np.nan
    history = _regressor().fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[cb.TerminateOnNaN()])
    assert len(history.epoch) == 1 and np.isnan(history.history["loss"][0])
    assert "Batch 0: invalid loss nan, terminating training" in capsys.readouterr().out


def test_learning_rate_scheduler_sets_the_optimizer_rate():
    x, y = _linear_data(16)
    model = _regressor(lr=1.0)
    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[cb.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 / 3)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_reduce_lr_on_plateau_after_patience_and_respects_min_lr():
    model = _regressor(lr=1.0)
    reduce = cb.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.3)
    reduce.set_model(model)
    reduce.on_train_begin()
    rates = []
    for epoch in range(7):
        reduce.on_epoch_end(epoch, {"val_loss": 1.0})
        rates.append(float(model.optimizer.learning_rate))
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.3, 0.3, 0.3])


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    x, y = _linear_data(16)
    path = tmp_path / "log.csv"
    _regressor().fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[cb.CSVLogger(str(path))])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss" and [line.split(",")[0] for line in lines[1:]] == ["0", "1"]
    _regressor().fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[cb.CSVLogger(str(path),
                                                                                               append=True)])
    assert len(path.read_text().splitlines()) == 4  # appended without a second header


def test_multi_output_losses_weights_and_prefixed_metrics():
    inp = Input((3,))
    model = Model(inp, [Lin(1, name="a", kernel_initializer="zeros")(inp),
                        Lin(1, name="b", kernel_initializer="zeros")(inp)])

    def abs_err(y_true, y_pred):
        return gf.reduce_mean(gf.abs(y_pred - y_true), axis=-1)
    model.compile(SGD(0.0), loss=[mse, mse], loss_weights=[1.0, 0.5], metrics=[[abs_err], []])
    x = np.ones((4, 3), np.float32)
    logs = model.evaluate(x, [np.full((4, 1), 2.0, np.float32), np.full((4, 1), 4.0, np.float32)], verbose=0,
                          return_dict=True)
    assert logs == pytest.approx({"loss": 4.0 + 0.5 * 16.0, "a_loss": 4.0, "b_loss": 16.0, "a_abs_err": 2.0})
    with pytest.raises(ValueError, match="3 losses given for 2 outputs"):
        model.compile(SGD(0.0), loss=[mse] * 3)
        model.evaluate(x, [x, x], verbose=0)


def test_dict_outputs_take_dict_targets_and_losses():
    inp = Input((3,), name="x")
    model = Model({"x": inp}, {"p": Lin(1, kernel_initializer="zeros")(inp), "q": Lin(2, kernel_initializer="zeros")(inp)})
    model.compile(SGD(0.0), loss={"p": mse, "q": mse})
    x = np.ones((2, 3), np.float32)
    logs = model.evaluate({"x": x}, {"p": np.ones((2, 1)), "q": np.full((2, 2), 3.0)}, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": 10.0, "p_loss": 1.0, "q_loss": 9.0})


def test_regularization_and_sample_weight_enter_the_loss():
    model = _regressor(lr=0.0, kernel_initializer="ones", kernel_regularizer=gf.keras.regularizers.L2(0.1))
    x = np.zeros((4, 3), np.float32)
    y = np.array([[1.0], [1.0], [3.0], [3.0]], np.float32)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(5.0 + 0.3)
    assert model.evaluate(x, y, sample_weight=np.array([1, 1, 0, 0], np.float32), verbose=0) == pytest.approx(
        0.5 + 0.3)


def test_predict_batches_and_concatenates():
    x, _ = _linear_data(70)
    model = _regressor()
    out = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (70, 1)
    np.testing.assert_allclose(out, model(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], rtol=1e-6)


def test_fit_on_an_iterable_of_batches_iterates_each_epoch():
    x, y = _linear_data(64)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    steps = []
    history = _regressor().fit(batches, epochs=3, verbose=0,
                               callbacks=[cb.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))])
    assert steps == [0, 1, 2, 3] * 3 and history.history["loss"][-1] < history.history["loss"][0]
    with pytest.raises(ValueError, match="do not pass y"):
        _regressor().fit(batches, y, verbose=0)


def test_train_and_test_on_batch():
    x, y = _linear_data(32)
    model = _regressor()
    first = model.train_on_batch(x, y)
    assert isinstance(first, float)
    assert model.test_on_batch(x, y) < first
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"loss"}


def test_fit_errors_name_the_problem():
    x, y = _linear_data(8)
    with pytest.raises(RuntimeError, match="compile the model first"):
        Sequential([Lin(1)]).fit(x, y)
    with pytest.raises(ValueError, match="different numbers of samples"):
        _regressor().fit(x, y[:5], verbose=0)


def test_accuracy_means_what_keras_means():
    kind = CompiledMetrics._accuracy_kind
    probs, onehot, labels = gf.zeros((4, 3)), gf.zeros((4, 3)), gf.zeros((4,))
    assert kind(labels, probs, None) == "sparse_categorical_accuracy"
    assert kind(onehot, probs, None) == "categorical_accuracy"
    assert kind(gf.zeros((4, 1)), gf.zeros((4, 1)), None) == "binary_accuracy"

    class SparseCE:
        name = "sparse_categorical_crossentropy"
    assert kind(gf.zeros((4, 1)), probs, SparseCE()) == "sparse_categorical_accuracy"


def _classifier(names=("probs",)):
    inp = Input((3,))
    outs = []
    for name in names:
        layer = Lin(2, name=name, kernel_initializer="zeros")
        outs.append(layer(inp))
        layer.bias.assign(np.array([0.2, 0.8], np.float32))  # every sample predicted as class 1
    return Model(inp, outs if len(outs) > 1 else outs[0])


def test_accuracy_string_resolves_from_the_loss_and_is_named_as_given():
    model = _classifier()
    model.compile(SGD(0.0), loss="sparse_categorical_crossentropy", metrics=["accuracy", "acc"])
    logs = model.evaluate(np.ones((4, 3), np.float32), np.array([1, 1, 0, 1]), verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(0.75) and logs["acc"] == pytest.approx(0.75)
    model.compile(SGD(0.0), loss="categorical_crossentropy", metrics=["accuracy"])
    onehot = np.eye(2, dtype=np.float32)[[1, 0, 0, 1]]
    assert model.evaluate(np.ones((4, 3), np.float32), onehot, verbose=0, return_dict=True)["accuracy"] == 0.5


def test_multi_output_metrics_are_prefixed_with_the_output_name():
    model = _classifier(("a", "b"))
    model.compile(SGD(0.0), loss="sparse_categorical_crossentropy", metrics={"b": ["accuracy"]})
    x, y = np.ones((4, 3), np.float32), np.array([1, 0, 0, 0])
    logs = model.evaluate(x, [y, y], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "a_loss", "b_loss", "b_accuracy"} and logs["b_accuracy"] == pytest.approx(0.25)


def test_weighted_metrics_use_sample_weight():
    model = _classifier()
    model.compile(SGD(0.0), loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    logs = model.evaluate(np.ones((4, 3), np.float32), np.array([1, 1, 0, 0]), verbose=0, return_dict=True,
                          sample_weight=np.array([1, 1, 0, 0], np.float32))
    assert logs["weighted_accuracy"] == pytest.approx(1.0)


def test_subclassed_model_fits_with_add_loss_and_class_weight():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.head = Lin(2)

        def call(self, x, training=None):
            out = self.head(x)
            self.add_loss(0.0 * gf.reduce_sum(out))  # add_loss values join the training loss
            return out
    net = Net()
    net.compile(SGD(0.5), loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    history = net.fit(x, y, epochs=20, batch_size=16, verbose=0, class_weight={0: 1.0, 1: 1.0})
    assert history.history["accuracy"][-1] > 0.9 and len(net.losses) == 1
    with pytest.raises(ValueError, match=r"no weight for class\(es\) \[1\]"):
        net.fit(x, y, verbose=0, class_weight={0: 1.0})


def test_single_output_lists_and_flat_metric_lists():
    inp = Input((3,))
    model = Model([inp], [Lin(1, name="only", kernel_initializer="zeros")(inp)])
    model.compile(SGD(0.0), loss=["mse"], metrics=["mae", "mse"])
    x, y = np.ones((4, 3), np.float32), np.full((4, 1), 2.0, np.float32)
    assert model.evaluate(x, [y], verbose=0, return_dict=True) == pytest.approx({"loss": 4.0, "mae": 2.0, "mse": 4.0})
    two = Model(inp, [Lin(1, name="p", kernel_initializer="zeros")(inp), Lin(1, name="q", kernel_initializer="zeros")(inp)])
    two.compile(SGD(0.0), loss="mse", metrics=["mae"])  # a flat metric list applies to every output
    assert set(two.evaluate(x, [y, y], verbose=0, return_dict=True)) == {"loss", "p_loss", "q_loss", "p_mae", "q_mae"}


def test_loss_none_trains_on_add_loss_alone_and_outputs_without_loss_are_skipped():
    class Shrink(Model):
        def __init__(self):
            super().__init__()
            self.head = Lin(1, kernel_initializer="ones")

        def call(self, x):
            out = self.head(x)
            self.add_loss(gf.reduce_mean(gf.square(out)))
            return out
    model = Shrink()
    model.compile(SGD(0.1))
    x = np.ones((8, 3), np.float32)
    history = model.fit(x, epochs=5, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    inp = Input((3,))
    two = Model(inp, [Lin(1, name="p")(inp), Lin(1, name="q")(inp)])
    two.compile(SGD(0.0), loss={"p": "mse"})
    logs = two.evaluate(x, {"p": np.zeros((8, 1))}, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "p_loss"}
    plain = Sequential([Lin(1, input_shape=(3,))])
    plain.compile(SGD(0.1))
    with pytest.raises(ValueError, match="no loss"):
        plain.fit(x, x, verbose=0)


def test_custom_train_step_in_the_tf_keras_2_style():
    class Custom(Model):
        def __init__(self):
            super().__init__()
            self.head = Lin(1)

        def call(self, x):
            return self.head(x)

        def train_step(self, data):
            x, y = data
            with gf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}
    x, y = _linear_data(64)
    model = Custom()
    model.compile(SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert sorted(history.history) == ["loss", "mae"] and history.history["loss"][-1] < 0.05


def test_custom_train_step_in_the_keras_3_style():
    class Custom(Model):
        def __init__(self):
            super().__init__()
            self.head = Lin(1)
            self.steps_seen = 0

        def call(self, x):
            return self.head(x)

        def train_step(self, data):
            x, y, sample_weight = gf.keras.utils.unpack_x_y_sample_weight(data)
            self.steps_seen += 1
            with gf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x, y, y_pred, sample_weight)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return self.compute_metrics(x, y, y_pred, sample_weight)
    x, y = _linear_data(64)
    model = Custom()
    model.compile(SGD(0.1), loss="mse", run_eagerly=True)  # steps_seen counts Python calls: eager steps
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0, sample_weight=np.ones(64, np.float32))
    assert model.steps_seen == 40 and history.history["loss"][-1] < 0.05
