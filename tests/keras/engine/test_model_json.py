"""model.to_json() / gf.keras.models.model_from_json() (Keras 3's layout) and get_config/from_config round trips of
whole models: Sequential, functional, nested. Reading a config runs no code from it."""
import json

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers

keras = gf.keras
model_from_json = keras.models.model_from_json


pytestmark = pytest.mark.usefixtures("clean_registry")  # each test registers its own classes


def _x(shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _sequential():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="relu"), layers.BatchNormalization(),
                              layers.Dropout(0.2), layers.Dense(3)])
    return model, _x((4, 6))


def _functional_dicts_shared_and_arithmetic():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    h = layers.Concatenate()([shared(a), shared(a * 0.5), b])
    out = {"y": layers.Dense(2, name="y")(h), "z": layers.Dense(1, name="z")(-h + 1.0)}
    return keras.Model({"a": a, "b": b}, out), {"a": _x((2, 4)), "b": _x((2, 3), 1)}


def _functional_list_io():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    added = layers.Add()([a, b])
    return keras.Model([a, b], [layers.Dense(2)(added), layers.Multiply()([a, b])]), [_x((2, 4)), _x((2, 4), 1)]


def _nested():
    # A functional model and a Sequential used as layers of a functional model; the inner one is called twice.
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, layers.Dense(4, activation="relu")(inner_in), name="inner")
    stack = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.LayerNormalization()], name="stack")
    x = keras.Input((4,), name="x")
    y = stack(inner(inner(x)))
    return keras.Model(x, layers.Dense(2)(y), name="outer"), _x((3, 4))


def _functional_in_sequential():
    inner_in = keras.Input((5,))
    inner = keras.Model(inner_in, layers.Dense(4)(inner_in), name="block")
    return keras.Sequential([keras.Input((5,)), inner, layers.Dense(2)]), _x((2, 5))


def _recurrent_masked():
    ids = keras.Input((6,), dtype="int32", name="ids")
    h = layers.Embedding(20, 4, mask_zero=True)(ids)
    h = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(h)
    h = layers.TimeDistributed(layers.Dense(2))(h)
    out = layers.GRU(2)(h)
    return keras.Model(ids, out), np.array([[3, 5, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]], np.int32)


def _convolutional():
    model = keras.Sequential([keras.Input((8, 8, 2)), layers.ZeroPadding2D(1), layers.Conv2D(3, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2, activation="softmax")])
    return model, _x((2, 8, 8, 2))


MODELS = {"sequential": _sequential, "functional_dicts": _functional_dicts_shared_and_arithmetic,
          "functional_lists": _functional_list_io, "nested": _nested,
          "functional_in_sequential": _functional_in_sequential, "recurrent_masked": _recurrent_masked,
          "convolutional": _convolutional}


def _flat(out):
    """A model's output(s) as a list of arrays, a dict's in key order."""
    if isinstance(out, dict):
        return [out[k].numpy() for k in sorted(out)]
    return [t.numpy() for t in (out if isinstance(out, (list, tuple)) else [out])]


def _same_outputs(model, again, x):
    again.set_weights(model.get_weights())
    for got, expected in zip(_flat(again(x)), _flat(model(x)), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("build", MODELS.values(), ids=MODELS.keys())
def test_model_round_trips(build):
    model, x = build()
    config = model.get_config()
    # get_config / from_config, also through JSON (tuples become lists on the way)
    for given in (config, json.loads(json.dumps(config))):
        again = type(model).from_config(given)
        assert type(again) is type(model)
        assert json.loads(json.dumps(again.get_config())) == json.loads(json.dumps(config))
        _same_outputs(model, again, x)
    # to_json / model_from_json
    text = model.to_json()
    revived = model_from_json(text)
    assert type(revived) is type(model) and revived.name == model.name
    assert [layer.name for layer in revived.layers] == [layer.name for layer in model.layers]
    assert revived.to_json() == text
    _same_outputs(model, revived, x)


def test_to_json_is_keras_3s_layout():
    model, _ = _functional_dicts_shared_and_arithmetic()
    entry = json.loads(model.to_json())
    config = entry["config"]
    assert entry["class_name"] == "Functional" and "nodes" not in config and "inputs" not in config
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert config["output_layers"] == {"y": ["y", 0, 0], "z": ["z", 0, 0]}
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert by_name["a"]["inbound_nodes"] == []
    shared = by_name["shared"]["inbound_nodes"]
    assert len(shared) == 2  # called twice: two nodes, filed under the layer
    assert shared[0] == {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 0]}}],
                         "kwargs": {}}
    concat = by_name["concatenate"]["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in concat] == [["shared", 0, 0], ["shared", 1, 0], ["b", 0, 0]]


def test_a_nested_functional_model_counts_its_calls_from_one_as_keras_does():
    model, x = _nested()
    layers_ = {layer["name"]: layer for layer in json.loads(model.to_json())["config"]["layers"]}
    calls = [node["args"][0]["config"]["keras_history"] for node in layers_["inner"]["inbound_nodes"]]
    assert calls == [["x", 0, 0], ["inner", 1, 0]]  # its first call is node 1 (Keras' node 0 is the model's own)
    assert layers_["stack"]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == ["inner", 2, 0]
    assert model_from_json(model.to_json()).to_json() == model.to_json()


def test_to_json_passes_its_arguments_to_json_dumps():
    model, _ = _sequential()
    text = model.to_json(indent=2, sort_keys=True)
    assert text.startswith('{\n  "class_name": "Sequential"') and json.loads(text) == json.loads(model.to_json())


def test_input_layer_round_trips():
    for layer in (layers.InputLayer(input_shape=(3,), batch_size=2, dtype="int32", name="ids"),
                  layers.InputLayer(batch_shape=(None, 5, 2), name="seq")):  # Keras 3's config spelling
        config = json.loads(json.dumps(layer.get_config()))
        again = layers.InputLayer.from_config(config)
        assert again.get_config() == layer.get_config()
        assert again.output.shape == layer.output.shape and again.output.dtype == layer.output.dtype


# ---------------------------------------------------------------- custom classes
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Residual(layers.Layer):
    """Holds a sublayer given by the user, so its config holds that sublayer's entry."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner if isinstance(inner, layers.Layer) else keras.saving.deserialize_keras_object(inner)

    def call(self, x):
        return x + self.inner(x)

    def get_config(self):
        return {**super().get_config(), "inner": keras.saving.serialize_keras_object(self.inner)}


def _custom_model():
    x = keras.Input((3,))
    return keras.Model(x, Residual(Scale(3.0))(layers.Dense(3)(x))), _x((2, 3))


def test_custom_layers_need_registration_or_custom_objects():
    model, x = _custom_model()
    text = model.to_json()
    entry = json.loads(text)["config"]["layers"][2]
    assert entry["class_name"] == "Residual" and entry["module"] == __name__
    with pytest.raises(ValueError, match="unknown layer class 'Residual'.*custom_objects"):
        model_from_json(text)
    revived = model_from_json(text, custom_objects={"Residual": Residual, "Scale": Scale})
    _same_outputs(model, revived, x)


def test_registered_custom_layers_load_by_their_registered_name():
    keras.saving.register_keras_serializable(package="Tests")(Scale)
    keras.saving.register_keras_serializable(package="Tests")(Residual)
    model, x = _custom_model()
    text = model.to_json()
    assert json.loads(text)["config"]["layers"][2]["registered_name"] == "Tests>Residual"
    revived = model_from_json(text)
    assert revived.layers[2].inner.factor == 3.0
    _same_outputs(model, revived, x)


# ---------------------------------------------------------------- reading other writers' JSON
def test_reads_tf_keras_2_inbound_nodes():
    # tf.keras 2.x's to_json: inbound nodes as [[layer, node, tensor, kwargs], ...] per call, input_layers always
    # a list of triples, keras_version and backend beside.
    dense = {"name": "dense", "trainable": True, "dtype": "float32", "units": 2, "activation": "linear",
             "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
             "bias_constraint": None}
    text = json.dumps({"class_name": "Functional", "keras_version": "2.15.0", "backend": "tensorflow", "config": {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "ragged": False,
                        "name": "input_1"}},
            {"class_name": "InputLayer", "name": "input_2", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 2], "dtype": "float32", "sparse": False, "ragged": False,
                        "name": "input_2"}},
            {"class_name": "Concatenate", "name": "concatenate",
             "config": {"name": "concatenate", "trainable": True, "dtype": "float32", "axis": -1},
             "inbound_nodes": [[["input_1", 0, 0, {}], ["input_2", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "dense", "config": dense,
             "inbound_nodes": [[["concatenate", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]], "output_layers": [["dense", 0, 0]]}})
    model = model_from_json(text)
    assert [t.shape.as_list() for t in model.inputs] == [[None, 3], [None, 2]]
    out = model([np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)])
    assert tuple(out.shape) == (4, 2)
    kernel, bias = model.get_layer("dense").get_weights()
    np.testing.assert_allclose(out.numpy(), np.ones((4, 5)) @ kernel + bias, rtol=1e-6)


def test_reads_keras_3_module_names_shapes_and_calls_listed_out_of_graph_order():
    # Keras 3 names its own classes' module ("keras.layers"), writes null registered names, shapes and dtypes in
    # each tensor reference; a layer shared at two depths has a later call listed before layers it depends on.
    def ref(layer, node):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, 3], "dtype": "float32", "keras_history": [layer, node, 0]}}

    def entry(cls, name, config, nodes):
        return {"module": "keras.layers", "class_name": cls, "config": {"name": name, **config},
                "registered_name": None, "name": name, "inbound_nodes": [{"args": [a], "kwargs": {}} for a in nodes]}
    text = json.dumps({"module": "keras", "class_name": "Functional", "registered_name": None, "config": {
        "name": "functional", "trainable": True, "layers": [
            entry("InputLayer", "input_layer", {"batch_shape": [None, 3], "dtype": "float32"}, []),
            entry("Dense", "shared", {"units": 3}, [ref("input_layer", 0), ref("middle", 0)]),
            entry("Dense", "middle", {"units": 3}, [ref("shared", 0)])],
        "input_layers": [["input_layer", 0, 0]], "output_layers": ["shared", 1, 0]}})
    model = model_from_json(text)
    shared, middle = model.get_layer("shared"), model.get_layer("middle")
    x = _x((2, 3))
    h = x @ shared.get_weights()[0] + shared.get_weights()[1]
    h = h @ middle.get_weights()[0] + middle.get_weights()[1]
    np.testing.assert_allclose(model(x).numpy(), h @ shared.get_weights()[0] + shared.get_weights()[1], rtol=1e-5)


# ---------------------------------------------------------------- reading runs no code
@pytest.mark.parametrize("class_name,module", [("eval", "builtins"), ("system", "os"), ("Variable", None),
                                               ("Lambda", None), ("Lambda", "keras.layers"), ("Dense", "mymodule")])
def test_a_config_can_name_only_layer_classes(class_name, module, capsys):
    layer = {"class_name": class_name, "name": "x", "config": {"function": "print('ran')", "name": "x"}}
    if module:
        layer["module"] = module
    text = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [layer]}})
    with pytest.raises(ValueError, match="Lambda|unknown layer class"):
        model_from_json(text)
    assert "ran" not in capsys.readouterr().out


@pytest.mark.parametrize("text,error", [("{not json", "not valid JSON"), ("[1, 2]", "expected an object"),
                                        ('{"class_name": "Sequential"}', "expected an object"),
                                        ('{"class_name": "Functional", "config": {"name": "m", "layers": [], '
                                         '"input_layers": [["a", 0, 0]], "output_layers": [["a", 0, 0]]}}',
                                         "layer 'a'.*no such layer")])
def test_bad_json_is_a_clear_error(text, error):
    with pytest.raises(ValueError, match=error):
        model_from_json(text)
    with pytest.raises(TypeError, match="JSON string"):
        model_from_json({"class_name": "Sequential"})
