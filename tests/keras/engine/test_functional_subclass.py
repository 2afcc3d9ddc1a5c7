"""A Model subclass built functionally, `CustomModel(inputs, outputs)`, as tf.keras' "Customizing what happens in
fit()" guide does: the subclass's own steps run on the functional graph."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow import keras
from gpuflow.keras.engine.functional import Functional


STEPS_RUN = []


class CustomModel(keras.Model):
    """The guide's model: its own train_step (counted, with an extra log entry)."""

    def train_step(self, data):
        x, y = data
        with gf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        STEPS_RUN.append(1)
        logs = self.compute_metrics(x, y, y_pred)
        return {**logs, "custom": gf.constant(float(len(STEPS_RUN)))}

    def test_step(self, data):
        x, y = data
        return {"custom_eval": gf.reduce_mean(gf.abs(self(x, training=False) - y))}

    def predict_step(self, data):
        return self(data, training=False) * 2.0


def _data(n=64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 32)).astype(np.float32)
    return x, (x @ rng.normal(size=(32, 1)) * 0.1).astype(np.float32)


def _guide_model(**kwargs):
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    return CustomModel(inputs, outputs, **kwargs)


def test_the_guide_example_trains_with_its_own_train_step():
    STEPS_RUN.clear()
    model = _guide_model()
    assert type(model).__name__ == "CustomModel" and model.name == "custom_model"
    assert isinstance(model, CustomModel) and isinstance(model, Functional) and isinstance(model, keras.Model)
    # run_eagerly: the test counts Python calls of train_step, which a compiled step makes only when tracing
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], run_eagerly=True)
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert len(STEPS_RUN) == 12  # 4 batches x 3 epochs, all through the subclass's train_step
    assert history.history["custom"] == [4.0, 8.0, 12.0]  # its extra log entry reached the History
    assert history.history["loss"][-1] < history.history["loss"][0] and "mae" in history.history
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"custom_eval"}
    np.testing.assert_allclose(model.predict(x, verbose=0), 2.0 * model(x).numpy(), rtol=1e-6)


def test_keyword_form_name_and_trainable():
    inputs = keras.Input(shape=(4,), name="features")
    outputs = keras.layers.Dense(2, name="head")(inputs)
    model = CustomModel(inputs=inputs, outputs=outputs, name="mine", trainable=False)
    assert model.name == "mine" and not model.trainable and model.trainable_weights == []
    assert [layer.name for layer in model.layers] == ["features", "head"]
    assert model.input_names == ["features"] and tuple(model.output_shape) == (None, 2)
    other = CustomModel(inputs, outputs=outputs)  # one positional, one keyword
    assert type(other) is type(model) and other.name == "custom_model"
    assert CustomModel.__bases__ == (keras.Model,)  # the user's class itself is left as written


def test_summary_names_the_layers(capsys):
    _guide_model(name="guide").summary()
    out = capsys.readouterr().out
    assert "guide" in out and "dense" in out and "Total params: 33" in out


def test_config_round_trip_returns_the_subclass_and_save_weights_restores_it(tmp_path):
    model = _guide_model()
    config = model.get_config()
    again = CustomModel.from_config(config)
    assert isinstance(again, CustomModel) and isinstance(again, Functional)
    assert again.get_config() == config
    assert isinstance(type(model).from_config(config), CustomModel)
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    again.load_weights(path)
    x, _ = _data(5)
    np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())
    assert type(keras.Model.from_config(config)) is Functional  # a plain Model revives the graph as a Functional


class Head(keras.Model):
    """The other common pattern: the subclass's __init__ takes its own arguments and builds the graph."""

    def __init__(self, units, **kwargs):
        inputs = keras.Input(shape=(3,))
        outputs = keras.layers.Dense(units, activation="relu")(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.units = units

    def get_config(self):
        return {"units": self.units, "name": self.name}


class HeadWithoutConfig(keras.Model):
    def __init__(self, units):
        inputs = keras.Input(shape=(3,))
        super().__init__(inputs, keras.layers.Dense(units)(inputs))


def test_a_subclass_init_calling_super_with_inputs_and_outputs():
    model = Head(5, name="head")
    assert isinstance(model, Head) and isinstance(model, Functional) and model.units == 5
    assert model.name == "head" and model(np.ones((2, 3), np.float32)).shape == (2, 5)
    again = Head.from_config(model.get_config())  # its own get_config: made by Head(**config)
    assert isinstance(again, Head) and again.units == 5 and again.name == "head"
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 3), np.float32), np.ones((8, 5), np.float32), epochs=1, verbose=0)

    plain = HeadWithoutConfig(2)
    assert plain.name == "head_without_config" and len(plain.layers) == 2
    with pytest.raises(TypeError, match="HeadWithoutConfig.from_config: cannot make a HeadWithoutConfig from its "
                                        "config.*get_config"):
        HeadWithoutConfig.from_config(plain.get_config())


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)


def test_a_subclass_without_inputs_stays_subclassed_and_errors_are_clear():
    model = Subclassed()
    assert not isinstance(model, Functional) and model(np.ones((1, 3), np.float32)).shape == (1, 2)
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Dense(1)(inputs)
    with pytest.raises(TypeError, match=r"CustomModel: got inputs but no outputs.*CustomModel\(inputs, outputs\)"):
        CustomModel(inputs)
    with pytest.raises(TypeError, match="CustomModel: got inputs but no outputs"):
        CustomModel(inputs=inputs)
    with pytest.raises(TypeError, match="CustomModel: got outputs but no inputs"):
        CustomModel(outputs=outputs)
    with pytest.raises(TypeError, match="Model: got inputs but no outputs"):
        keras.Model(inputs)
    with pytest.raises(TypeError, match="every output must be a KerasTensor"):
        CustomModel(inputs, np.ones(3))
    with pytest.raises(ValueError, match="Graph disconnected"):
        CustomModel(keras.Input(shape=(3,)), outputs)


class TrackingModel(keras.Model):
    """The guide's second example: (*args, **kwargs) passed on, its own metric trackers listed in `metrics`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        with gf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = gf.reduce_mean(keras.losses.mean_squared_error(y, y_pred))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_the_guides_own_trackers_are_reset_each_epoch_and_the_model_revives():
    inputs = keras.Input(shape=(32,))
    model = TrackingModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam")  # no loss: the train_step computes its own
    x, y = _data(48)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert float(model.loss_tracker.count) == 3.0  # this epoch's 3 batches only: reset at the epoch's start
    assert set(history.history) == {"loss", "mae"} and len(history.history["mae"]) == 2
    assert [w.name for w in model.weights] == ["dense/kernel:0", "dense/bias:0"]  # trackers hold no weights
    again = TrackingModel.from_config(model.get_config())  # (*args, **kwargs) takes (inputs, outputs)
    assert isinstance(again, TrackingModel) and isinstance(again.loss_tracker, keras.metrics.Mean)
