"""Whole-model `.keras` files: model.save / gf.keras.models.load_model, the custom-object registry and
ModelCheckpoint(save_weights_only=False). Saving is host-side, so these run on cpu only."""
import json
import os
import zipfile

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers

keras = gf.keras


pytestmark = pytest.mark.usefixtures("clean_registry")  # each test registers its own classes


def _data(seed=0, n=32, d=4, k=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("float32"), rng.normal(size=(n, k)).astype("float32")


def _sequential():
    return keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                             layers.Dense(2)])


def _functional():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = layers.Dense(3, activation="tanh", name="shared")
    merged = layers.Concatenate(name="cat")([shared(a), shared(b)])
    out1 = layers.Dense(2, name="out1")(merged)
    out2 = layers.Dense(1, name="out2")(layers.Add(name="add")([shared(a), shared(b)]))
    return keras.Model([a, b], [out1, out2], name="two_heads")


class TwoDense(keras.Model):
    """A subclassed model: its layers are made in __init__ and get weights on the first call."""

    def __init__(self, units=5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="relu")
        self.out = layers.Dense(2)

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Scale(layers.Layer):
    """A custom layer with a weight and a constructor argument."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _same_predictions(a, b, x):
    for u, v in zip(gf.nest.flatten(a.predict(x, verbose=0)), gf.nest.flatten(b.predict(x, verbose=0))):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def _rewrite(src, dst, **replace):
    """A copy of the archive `src` at `dst` with some entries replaced (bytes) or removed (None)."""
    with zipfile.ZipFile(src) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    for name, value in replace.items():
        name = name.replace("__", ".")
        if value is None:
            entries.pop(name)
        else:
            entries[name] = value
    with zipfile.ZipFile(dst, "w") as archive:
        for name, value in entries.items():
            archive.writestr(name, value)
    return dst


# ---------------------------------------------------------------- round trips
def test_sequential_round_trip(tmp_path):
    x, y = _data()
    model = _sequential()
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "seq.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.safetensors"]
        meta = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert meta["format_version"] == 1 and meta["gpuflow_version"] == gf.__version__ and meta["date_saved"]
    assert config["class_name"] == "Sequential" and config["config"]["name"] == model.name
    loaded = keras.models.load_model(path)
    assert type(loaded) is keras.Sequential
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    # BatchNormalization's moving statistics (non-trainable weights) come back too.
    for u, v in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    _same_predictions(model, loaded, x)
    # gf.keras.saving.save_model / load_model are the same functions.
    keras.saving.save_model(loaded, tmp_path / "again.keras")
    _same_predictions(model, keras.saving.load_model(tmp_path / "again.keras"), x)


def test_functional_round_trip_multi_io_shared_layer(tmp_path):
    x, _ = _data(1)
    model = _functional()
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras", compile=False)
    assert loaded.name == "two_heads" and loaded.input_names == ["a", "b"]
    assert loaded.output_names == ["out1", "out2"]
    assert len(loaded.weights) == len(model.weights) == 6  # the shared Dense is one layer, not two
    _same_predictions(model, loaded, [x, x[::-1]])


def test_nested_sequential_in_functional_round_trip(tmp_path):
    x, _ = _data(2)
    inner = keras.Sequential([layers.Dense(3), layers.Dense(3)], name="inner")
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(1)(inner(inp)))
    model.save(tmp_path / "nested.keras")
    loaded = keras.models.load_model(tmp_path / "nested.keras")
    assert isinstance(loaded.get_layer("inner"), keras.Sequential)
    _same_predictions(model, loaded, x)


def test_functional_with_operators_round_trip(tmp_path):
    x, _ = _data(15)
    inp = keras.Input((4,))
    h = layers.Dense(3)(inp)
    model = keras.Model(inp, 2.0 * h - h * h)  # operators between KerasTensors make OpLayers
    model.save(tmp_path / "ops.keras")
    _same_predictions(model, keras.models.load_model(tmp_path / "ops.keras"), x)


def test_subclass_built_from_inputs_and_outputs_round_trip(tmp_path):
    """tf.keras' "customizing fit()" guide: CustomModel(inputs, outputs) with its own train_step."""
    @keras.saving.register_keras_serializable(package="Tests")
    class CustomModel(keras.Model):
        def train_step(self, data):
            return super().train_step(data)

    x, y = _data(17)
    inp = keras.Input((4,))
    model = CustomModel(inp, layers.Dense(2)(layers.Dense(3)(inp)))
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "custom_fit.keras")
    loaded = keras.models.load_model(tmp_path / "custom_fit.keras")
    assert isinstance(loaded, CustomModel) and isinstance(loaded, keras.models.Functional)
    _same_predictions(model, loaded, x)


def test_unregistered_subclassed_model_needs_custom_objects(tmp_path):
    x, _ = _data(16)
    model = TwoDense(units=3)
    model(x)
    model.save(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match=r"plain\.keras: unknown layer class 'TwoDense' \(from module .*\): .*"
                                         r"register_keras_serializable.*custom_objects=\{'TwoDense': TwoDense\}"):
        keras.models.load_model(tmp_path / "plain.keras")
    loaded = keras.models.load_model(tmp_path / "plain.keras", custom_objects={"TwoDense": TwoDense})
    _same_predictions(model, loaded, x)


def test_subclassed_round_trip(tmp_path):
    keras.saving.register_keras_serializable(package="Tests")(TwoDense)
    x, y = _data(3)
    model = TwoDense(units=7)
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "sub.keras")
    with zipfile.ZipFile(tmp_path / "sub.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert config["registered_name"] == "Tests>TwoDense"
    assert config["build_config"] == {"input_shape": [None, 4]}  # the batch size is not kept
    loaded = keras.models.load_model(tmp_path / "sub.keras")
    assert type(loaded) is TwoDense and loaded.units == 7 and loaded.built
    _same_predictions(model, loaded, x)


def test_subclassed_with_several_inputs(tmp_path):
    @keras.saving.register_keras_serializable(package="Tests")
    class Pair(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.left, self.right = layers.Dense(2), layers.Dense(2)

        def call(self, inputs):
            return self.left(inputs[0]) + self.right(inputs[1])

    a, _ = _data(4, d=3)
    b, _ = _data(5, d=5)
    model = Pair()
    model([a, b])
    model.save(tmp_path / "pair.keras")
    loaded = keras.models.load_model(tmp_path / "pair.keras")
    np.testing.assert_array_equal(model([a, b]).numpy(), loaded([a, b]).numpy())


def test_unbuilt_sequential_round_trip(tmp_path):
    model = keras.Sequential([layers.Dense(3)])
    model.save(tmp_path / "unbuilt.keras")
    loaded = keras.models.load_model(tmp_path / "unbuilt.keras")
    assert not loaded.weights and [type(layer) for layer in loaded.layers] == [layers.Dense]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_weight_dtypes_round_trip(tmp_path, dtype):
    """bfloat16 has no NumPy dtype of its own (ml_dtypes'), so safetensors' NumPy reader cannot read it; ours can."""
    model = keras.Sequential([keras.Input((3,), dtype=dtype), layers.Dense(2, dtype=dtype)])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    rebuilt = keras.Sequential([keras.Input((3,), dtype=dtype), layers.Dense(2, dtype=dtype)])
    rebuilt.load_weights(tmp_path / "m.weights.h5")
    for other in (loaded, rebuilt):
        for u, v in zip(model.weights, other.weights):
            assert v.dtype == u.dtype == getattr(gf, dtype)
            np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_scalar_weights_keep_their_shape(tmp_path):
    class Offset(layers.Layer):
        def build(self, input_shape):
            self.b = self.add_weight("b", shape=(), initializer="ones")

        def call(self, x):
            return x + self.b

    model = keras.Sequential([keras.Input((2,)), Offset()])
    model.save_weights(tmp_path / "w.weights.h5")
    model.load_weights(tmp_path / "w.weights.h5")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"Offset": Offset})
    assert loaded.weights[0].shape == () and float(loaded.weights[0].numpy()) == 1.0


# ---------------------------------------------------------------- compile state and resuming training
def test_compiled_state_restored(tmp_path):
    x, y = _data(6)
    model = _functional()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003, beta_1=0.8, clipnorm=1.0),
                  loss={"out1": "mse", "out2": keras.losses.Huber(delta=0.5)},
                  metrics={"out1": ["mae", keras.metrics.MeanSquaredError(name="m")]},
                  loss_weights=[1.0, 0.25])
    model.fit([x, x], [y, y[:, :1]], epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras")
    opt = loaded.optimizer
    assert type(opt) is keras.optimizers.Adam
    assert opt.get_config() == model.optimizer.get_config()
    assert int(opt.iterations.numpy()) == 4
    state = loaded._compiled
    assert state.loss_spec["out1"] == "mse"
    assert type(state.loss_spec["out2"]) is keras.losses.Huber and state.loss_spec["out2"].delta == 0.5
    assert state.metrics_spec["out1"][0] == "mae" and state.metrics_spec["out1"][1].name == "m"
    assert state.loss_weights == [1.0, 0.25]
    logs = loaded.evaluate([x, x], [y, y[:, :1]], verbose=0, return_dict=True)
    expected = model.evaluate([x, x], [y, y[:, :1]], verbose=0, return_dict=True)
    assert logs.keys() == expected.keys()
    for key in logs:
        assert logs[key] == pytest.approx(expected[key], rel=1e-6)
    assert keras.models.load_model(tmp_path / "c.keras", compile=False).optimizer is None


def test_gpuflow_loss_function_as_a_metric(tmp_path):
    model = _sequential()
    model.compile("sgd", loss="mae", metrics=[keras.losses.huber, "mse"])
    model.save(tmp_path / "huber.keras")
    assert keras.models.load_model(tmp_path / "huber.keras")._compiled.metrics_spec == [keras.losses.huber, "mse"]


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd_momentum"])
def test_fit_continues_as_the_original_would(tmp_path, optimizer):
    x, y = _data(7, n=48)

    def make_optimizer():
        return keras.optimizers.SGD(0.05, momentum=0.9) if optimizer == "sgd_momentum" else optimizer

    model = _sequential()
    model.compile(make_optimizer(), "mse")
    model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    model.save(tmp_path / "mid.keras")
    loaded = keras.models.load_model(tmp_path / "mid.keras")
    fresh = keras.models.load_model(tmp_path / "mid.keras", compile=False)
    fresh.compile(make_optimizer(), "mse")  # same weights, but new optimizer slots
    for m in (model, loaded, fresh):
        m.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for u, v in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    # Without the saved slots training goes elsewhere: the check above is not vacuous.
    assert any(not np.array_equal(u.numpy(), v.numpy()) for u, v in zip(model.weights, fresh.weights))


def test_include_optimizer_false_saves_no_slots(tmp_path):
    x, y = _data(8)
    model = _sequential()
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "noopt.keras", include_optimizer=False)
    loaded = keras.models.load_model(tmp_path / "noopt.keras")
    assert type(loaded.optimizer) is keras.optimizers.Adam and not loaded.optimizer.built


# ---------------------------------------------------------------- custom objects and registration
def test_custom_layer_needs_registration_or_custom_objects(tmp_path):
    x, _ = _data(9)
    model = keras.Sequential([keras.Input((4,)), Scale(3.0, name="scale"), layers.Dense(2)])
    model.get_layer("scale").w.assign(np.arange(4, dtype="float32"))
    model.save(tmp_path / "custom.keras")
    with pytest.raises(ValueError, match=r"custom\.keras.*unknown layer class 'Scale'.*register_keras_serializable"
                                         r".*custom_objects"):
        keras.models.load_model(tmp_path / "custom.keras")
    loaded = keras.models.load_model(tmp_path / "custom.keras", custom_objects={"Scale": Scale})
    assert type(loaded.get_layer("scale")) is Scale and loaded.get_layer("scale").factor == 3.0
    _same_predictions(model, loaded, x)
    with keras.saving.custom_object_scope({"Scale": Scale}):
        _same_predictions(model, keras.models.load_model(tmp_path / "custom.keras"), x)


def test_registered_layer_and_registry_functions(tmp_path):
    registered = keras.saving.register_keras_serializable(package="MyPkg", name="Scaler")(Scale)
    assert registered is Scale
    assert keras.saving.get_registered_name(Scale) == "MyPkg>Scaler"
    assert keras.saving.get_registered_object("MyPkg>Scaler") is Scale
    assert keras.saving.get_custom_objects()["MyPkg>Scaler"] is Scale
    assert keras.saving.get_registered_object("Nope>Scale") is None
    assert keras.saving.get_registered_object("x", custom_objects={"x": Scale}) is Scale
    assert keras.saving.get_registered_name(_data) == "_data"
    x, _ = _data(10)
    model = keras.Sequential([keras.Input((4,)), Scale(0.5)])
    model.save(tmp_path / "reg.keras")
    with zipfile.ZipFile(tmp_path / "reg.keras") as archive:
        entry = json.loads(archive.read("config.json"))["config"]["layers"][0]
    assert entry["registered_name"] == "MyPkg>Scaler" and entry["module"] == __name__
    _same_predictions(model, keras.models.load_model(tmp_path / "reg.keras"), x)


def test_register_checks_its_arguments():
    with pytest.raises(ValueError, match="package"):
        keras.saving.register_keras_serializable(package="a>b")
    with pytest.raises(ValueError, match="get_config"):
        keras.saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_custom_loss_metric_and_optimizer(tmp_path):
    @keras.saving.register_keras_serializable(package="Tests")
    def scaled_mse(y_true, y_pred):
        return 2.0 * keras.losses.mean_squared_error(y_true, y_pred)

    def plain_metric(y_true, y_pred):
        return gf.reduce_max(gf.abs(y_true - y_pred), axis=-1)

    @keras.saving.register_keras_serializable(package="Tests")
    class HalfLR(keras.optimizers.SGD):
        def __init__(self, learning_rate=0.01, **kwargs):
            super().__init__(learning_rate=learning_rate / 2, **kwargs)

        def get_config(self):
            return {**super().get_config(), "learning_rate": self.learning_rate.numpy() * 2}

    x, y = _data(11)
    model = _sequential()
    model.compile(HalfLR(0.1), loss=scaled_mse, metrics=[plain_metric])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "fn.keras")
    with pytest.raises(ValueError, match="unknown metric function 'plain_metric'.*custom_objects.*compile=False"):
        keras.models.load_model(tmp_path / "fn.keras")
    loaded = keras.models.load_model(tmp_path / "fn.keras", custom_objects={"plain_metric": plain_metric})
    assert loaded._compiled.loss_spec is scaled_mse and loaded._compiled.metrics_spec == [plain_metric]
    assert type(loaded.optimizer) is HalfLR
    assert float(loaded.optimizer.learning_rate.numpy()) == pytest.approx(0.05)
    assert keras.models.load_model(tmp_path / "fn.keras", compile=False).optimizer is None


def test_wrapper_layer_serialises_its_sublayer(tmp_path):
    """A custom layer holding another layer and an initializer, saved with serialize_keras_object (Keras 3)."""
    @keras.saving.register_keras_serializable(package="Tests")
    class Residual(layers.Layer):
        def __init__(self, inner, scale_initializer="ones", activation="linear", **kwargs):
            super().__init__(**kwargs)
            self.inner = inner
            self.scale_initializer = keras.initializers.get(scale_initializer)
            self.activation = keras.activations.get(activation)

        def build(self, input_shape):
            self.scale = self.add_weight("scale", shape=(), initializer=self.scale_initializer)

        def call(self, x):
            return self.activation(x + self.scale * self.inner(x))

        def get_config(self):
            return {**super().get_config(), "inner": keras.saving.serialize_keras_object(self.inner),
                    "scale_initializer": keras.saving.serialize_keras_object(self.scale_initializer),
                    "activation": keras.saving.serialize_keras_object(self.activation)}

        @classmethod
        def from_config(cls, config):
            config = dict(config)
            for key in ("inner", "scale_initializer", "activation"):
                config[key] = keras.saving.deserialize_keras_object(config[key])
            return cls(**config)

    x, _ = _data(18)
    block = Residual(Scale(1.5), scale_initializer=keras.initializers.Constant(0.25), activation=keras.activations.tanh)
    model = keras.Sequential([keras.Input((4,)), block, layers.Dense(2)])
    model.save(tmp_path / "res.keras")
    with pytest.raises(ValueError, match="unknown object class 'Scale'.*custom_objects"):
        keras.models.load_model(tmp_path / "res.keras")
    loaded = keras.models.load_model(tmp_path / "res.keras", custom_objects={"Scale": Scale})
    inner = loaded.layers[0].inner
    assert type(inner) is Scale and inner.factor == 1.5 and loaded.layers[0].activation is keras.activations.tanh
    _same_predictions(model, loaded, x)


def test_serialize_keras_object_values():
    ser, de = keras.saving.serialize_keras_object, keras.saving.deserialize_keras_object
    assert ser([1, "a", None, np.float32(0.5), {"k": (2, 3)}]) == [1, "a", None, 0.5, {"k": [2, 3]}]
    assert de({"k": [1, 2]}) == {"k": [1, 2]}
    init = de(ser(keras.initializers.RandomNormal(stddev=0.3, seed=4)))
    assert type(init) is keras.initializers.RandomNormal and init.get_config()["stddev"] == 0.3
    # Same class name in two families: the module picks the right one.
    assert type(de(ser(keras.losses.MeanSquaredError()))) is keras.losses.MeanSquaredError
    assert type(de(ser(keras.metrics.MeanSquaredError()))) is keras.metrics.MeanSquaredError
    assert de(ser(keras.losses.huber)) is keras.losses.huber
    assert type(de(ser(layers.Dense(3, name="d")))) is layers.Dense
    with pytest.raises(ValueError, match="lambda"):
        ser(lambda t: t)
    with pytest.raises(ValueError, match="unknown function 'eval'"):
        de({"class_name": "function", "config": "eval", "module": "builtins"})
    with pytest.raises(ValueError, match="unknown function 'system'"):
        de({"class_name": "function", "config": "system", "module": "gpuflow.keras.os"})
    with pytest.raises(ValueError, match="unknown object class 'Popen'"):
        de({"class_name": "Popen", "config": {}, "module": "subprocess"})


# ---------------------------------------------------------------- errors at save time
def test_lambda_layer_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Lambda(lambda t: t * 2, name="doubler")])
    with pytest.raises(ValueError, match="'doubler' is a Lambda layer.*register_keras_serializable"):
        model.save(tmp_path / "lambda.keras")
    assert not os.listdir(tmp_path)  # nothing written, not even a temporary file


def test_lambda_loss_is_refused(tmp_path):
    model = _sequential()
    model.compile("sgd", loss=lambda a, b: keras.losses.mean_squared_error(a, b))
    with pytest.raises(ValueError, match="compiled loss is a lambda"):
        model.save(tmp_path / "lambda_loss.keras")


def test_layer_without_get_config_is_refused(tmp_path):
    class NoConfig(layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    model = keras.Sequential([keras.Input((4,)), NoConfig(2.0, name="noconf")])
    with pytest.raises(ValueError, match="'noconf' is a NoConfig, whose __init__ takes factor.*get_config"):
        model.save(tmp_path / "noconf.keras")


def test_subclass_of_a_builtin_layer_without_get_config_is_refused(tmp_path):
    class WideDense(layers.Dense):
        def __init__(self, units, widen=2, **kwargs):
            super().__init__(units * widen, **kwargs)

    model = keras.Sequential([keras.Input((4,)), WideDense(2, name="wide")])
    with pytest.raises(ValueError, match="'wide' is a WideDense, whose __init__ takes widen.*get_config"):
        model.save(tmp_path / "wide.keras")


def test_custom_loss_class_without_get_config_is_refused(tmp_path):
    class ScaledMSE(keras.losses.Loss):
        def __init__(self, scale, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * keras.losses.mean_squared_error(y_true, y_pred)

    model = _sequential()
    model.compile("sgd", loss=ScaledMSE(3.0))
    with pytest.raises(ValueError, match="compiled loss is a ScaledMSE, whose __init__ takes scale.*get_config"):
        model.save(tmp_path / "loss.keras")


def test_subclassed_model_without_get_config_is_refused(tmp_path):
    class Bare(keras.Model):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    model = Bare(3)
    model(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="Bare, whose __init__ takes units.*get_config"):
        model.save(tmp_path / "bare.keras")


@pytest.mark.parametrize("name", ["m.h5", "m.hdf5"])
def test_hdf5_paths_are_refused(tmp_path, name):
    model = _sequential()
    with pytest.raises(ValueError, match="HDF5.*\\.keras"):
        model.save(tmp_path / name)
    (tmp_path / name).write_bytes(b"\x89HDF\r\n\x1a\n")
    with pytest.raises(ValueError, match="HDF5.*\\.keras"):
        keras.models.load_model(tmp_path / name)


@pytest.mark.parametrize("name", ["model.zip", "model.weights.safetensors", "model.keras.bak"])
def test_path_without_keras_suffix_is_refused(tmp_path, name):
    """(A path with no extension at all is a SavedModel directory, as in TF2 Keras: tests/saved_model.)"""
    with pytest.raises(ValueError, match="must end in .keras"):
        _sequential().save(tmp_path / name)
    with pytest.raises(ValueError, match="must end in .keras"):
        keras.models.load_model(tmp_path / name)


def test_save_options(tmp_path):
    model = _sequential()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == before
    with pytest.raises(ValueError, match="save_format='tf'"):
        model.save(tmp_path / "m.keras", save_format="tf")
    with pytest.raises(TypeError, match="signatures"):
        model.save(tmp_path / "m.keras", signatures=None)
    with pytest.raises(TypeError, match="expected a gf.keras Model"):
        keras.saving.save_model(layers.Dense(2), tmp_path / "layer.keras")
    model.save(tmp_path / "m.keras", save_format="keras")  # overwrites by default
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "m.keras").st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0o600


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    model = _sequential()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


# ---------------------------------------------------------------- errors at load time
def test_broken_files_name_the_file_and_the_problem(tmp_path):
    model = _sequential()
    good = tmp_path / "good.keras"
    model.save(good)
    with zipfile.ZipFile(good) as archive:
        config = json.loads(archive.read("config.json"))

    with pytest.raises(FileNotFoundError, match="missing.keras"):
        keras.models.load_model(tmp_path / "missing.keras")
    (tmp_path / "text.keras").write_text("not a zip")
    with pytest.raises(ValueError, match="text.keras is not a .keras file \\(not a zip archive\\)"):
        keras.models.load_model(tmp_path / "text.keras")
    with pytest.raises(ValueError, match="nocfg.keras lacks config.json"):
        keras.models.load_model(_rewrite(good, tmp_path / "nocfg.keras", config__json=None))
    with pytest.raises(ValueError, match="badjson.keras: config.json is not valid JSON"):
        keras.models.load_model(_rewrite(good, tmp_path / "badjson.keras", config__json=b'{"class_name": '))
    with pytest.raises(ValueError, match="list.keras: metadata.json must hold a JSON object"):
        keras.models.load_model(_rewrite(good, tmp_path / "list.keras", metadata__json=b"[1, 2]"))
    with pytest.raises(ValueError, match="future.keras has format version 99"):
        keras.models.load_model(_rewrite(good, tmp_path / "future.keras",
                                         metadata__json=json.dumps({"format_version": 99}).encode()))

    unknown = json.loads(json.dumps(config))
    unknown["config"]["layers"][0]["class_name"] = "Denseish"
    with pytest.raises(ValueError, match="unknown.keras: unknown layer class 'Denseish'"):
        keras.models.load_model(_rewrite(good, tmp_path / "unknown.keras", config__json=json.dumps(unknown).encode()))
    # A name from the file never reaches a module attribute that is not a layer class.
    sneaky = json.loads(json.dumps(config))
    sneaky["config"]["layers"][0]["class_name"] = "np"
    with pytest.raises(ValueError, match="unknown layer class 'np'"):
        keras.models.load_model(_rewrite(good, tmp_path / "sneaky.keras", config__json=json.dumps(sneaky).encode()))
    nolayers = json.loads(json.dumps(config))
    del nolayers["config"]["layers"]
    with pytest.raises(ValueError, match="nolayers.keras: config.json lacks the key 'layers'"):
        keras.models.load_model(_rewrite(good, tmp_path / "nolayers.keras",
                                         config__json=json.dumps(nolayers).encode()))

    with pytest.raises(ValueError, match="corrupt.keras: model.weights.safetensors: not a valid safetensors file"):
        keras.models.load_model(_rewrite(good, tmp_path / "corrupt.keras", model__weights__safetensors=b"12345678"))
    wider = json.loads(json.dumps(config))
    wider["config"]["layers"][0]["config"]["units"] = 9
    with pytest.raises(ValueError, match=r"(?s)wider.keras: the weights do not match.*shape mismatch for "
                                         r"dense\w*/kernel: the model has \(4, 9\), the file has \(4, 8\)"):
        keras.models.load_model(_rewrite(good, tmp_path / "wider.keras", config__json=json.dumps(wider).encode()))


def test_custom_objects_must_be_a_dict(tmp_path):
    _sequential().save(tmp_path / "m.keras")
    with pytest.raises(TypeError, match="custom_objects must be a dict"):
        keras.models.load_model(tmp_path / "m.keras", custom_objects=[Scale])


# ---------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_saves_whole_models(tmp_path):
    x, y = _data(12, n=40)
    model = _sequential()
    model.compile("adam", "mse")
    check = keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt_{epoch:02d}.keras"), monitor="loss",
                                            save_weights_only=False, save_best_only=True)
    best = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["loss"] <= min([logs["loss"]] + [b[1] for b in best]):
                best.append((epoch + 1, logs["loss"], [w.numpy().copy() for w in self.model.weights]))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[Record(), check])
    files = sorted(os.listdir(tmp_path))
    assert files == [f"ckpt_{epoch:02d}.keras" for epoch, _, _ in best]
    epoch, _, weights = best[-1]
    loaded = keras.models.load_model(tmp_path / f"ckpt_{epoch:02d}.keras")
    for u, v in zip(weights, loaded.weights):
        np.testing.assert_array_equal(u, v.numpy())
    assert int(loaded.optimizer.iterations.numpy()) == 5 * epoch


def test_model_checkpoint_only_best_is_written(tmp_path):
    x, y = _data(13, n=16)
    model = _sequential()
    model.compile("sgd", "mse")
    # No epoch can beat a threshold of 0, so nothing is written.
    check = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss", save_best_only=True,
                                            save_weights_only=False, initial_value_threshold=0.0)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[check])
    assert not os.listdir(tmp_path)


def test_model_checkpoint_path_follows_save_weights_only(tmp_path):
    x, y = _data(14, n=16)
    model = _sequential()
    model.compile("sgd", "mse")
    default = keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))  # unset: a .keras path is a whole model
    weights = keras.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"))
    assert default.save_weights_only is False and weights.save_weights_only is True
    model.fit(x, y, epochs=1, verbose=0, callbacks=[default, weights])
    assert zipfile.is_zipfile(tmp_path / "m.keras") and not zipfile.is_zipfile(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="save_weights_only=False.*must end in .keras"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=False)
    with pytest.raises(ValueError, match="save_weights_only=True.*\\.weights\\.h5"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_weights_only=True)
