"""gf.keras.mixed_precision: policies, layer autocast (inputs and weights), LossScaleOptimizer, mixed fit."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from gpuflow.keras import mixed_precision as mp

MIXED = ["mixed_float16", "mixed_bfloat16"]
HALF = {"mixed_float16": gf.float16, "mixed_bfloat16": gf.bfloat16}


@pytest.fixture(autouse=True)
def float32_afterwards():
    yield
    mp.set_global_policy(None)


# ---------------------------------------------------------------------------------------------- policies
@pytest.mark.parametrize("name,compute,variable", [
    ("float32", "float32", "float32"), ("float16", "float16", "float16"), ("bfloat16", "bfloat16", "bfloat16"),
    ("float64", "float64", "float64"), ("mixed_float16", "float16", "float32"),
    ("mixed_bfloat16", "bfloat16", "float32")])
def test_policy_names(name, compute, variable):
    policy = mp.DTypePolicy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert repr(policy) == f'<DTypePolicy "{name}">'
    assert policy == mp.Policy(name) and policy != mp.DTypePolicy("float32" if name != "float32" else "float64")
    assert mp.DTypePolicy.from_config(policy.get_config()) == policy


def test_bad_policy_names_raise():
    with pytest.raises(ValueError, match="mixed_float16"):
        mp.DTypePolicy("mixed_float8")
    with pytest.raises(TypeError, match="string"):
        mp.DTypePolicy(16)
    with pytest.raises(ValueError, match="floating point"):
        mp.set_global_policy("int32")
    with pytest.raises(ValueError, match="DTypePolicy"):
        mp.set_global_policy(3)


def test_global_policy_and_keras_config_aliases():
    assert mp.global_policy().name == "float32" and mp.DTypePolicy().name == "float32"
    mp.set_global_policy("mixed_bfloat16")
    assert mp.global_policy() == mp.DTypePolicy("mixed_bfloat16") == mp.DTypePolicy()
    assert gf.keras.config.dtype_policy() is mp.global_policy()
    gf.keras.config.set_dtype_policy(mp.DTypePolicy("mixed_float16"))
    assert mp.dtype_policy().name == "mixed_float16" and layers.Dense(2).dtype_policy.name == "mixed_float16"
    mp.set_global_policy(None)
    assert layers.Dense(2).dtype_policy.name == "float32"


def test_layer_dtype_argument_forms():
    for dtype in ("mixed_float16", mp.DTypePolicy("mixed_float16"),
                  {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}):
        layer = layers.Dense(2, dtype=dtype)
        assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == ("float32", "float16", "float32")
        assert layer.dtype_policy == mp.DTypePolicy("mixed_float16")
    assert layers.Dense(2, dtype=gf.float64).dtype_policy.name == "float64"
    assert layers.Dense(2, dtype=np.float16).compute_dtype == "float16"
    with pytest.raises(TypeError, match="dtype policy"):
        layers.Dense(2, dtype=object())


# ---------------------------------------------------------------------------------------------- layers
def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("policy", MIXED)
@pytest.mark.parametrize("make,shape", [
    (lambda: layers.Dense(4, activation="relu"), (3, 5)),
    (lambda: layers.Conv2D(3, 2, padding="same"), (2, 4, 4, 2)),
    (lambda: layers.LSTM(3, return_sequences=True), (2, 4, 5)),
    (lambda: layers.BatchNormalization(), (6, 3)),
])
def test_layer_dtypes_under_mixed_policy(policy, make, shape):
    mp.set_global_policy(policy)
    layer = make()
    x = _x(shape)
    for training in (True, False):
        y = layer(x, training=training)
        assert y.dtype == HALF[policy], type(layer).__name__
    assert layer.weights and all(v.dtype == gf.float32 for v in layer.weights)
    assert layer.compute_dtype == HALF[policy].name and layer.variable_dtype == layer.dtype == "float32"
    # The half-precision result is the float32 layer's, rounded: same weights in a float32 twin.
    mp.set_global_policy(None)
    twin = make()
    twin(x)
    twin.set_weights(layer.get_weights())
    want = twin(x, training=False).numpy()
    tol = 2e-2 if policy == "mixed_bfloat16" else 4e-3
    np.testing.assert_allclose(layer(x, training=False).numpy().astype(np.float32), want, rtol=tol * 4,
                               atol=tol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("policy", MIXED)
def test_batch_normalization_statistics_in_float32(policy):
    # Inputs exact in the half dtype (300 + k * its spacing there), whose mean is not: computed in half precision
    # the mean and so the variance would be rounded; in float32 (Keras 3) they are exact, and stay float32.
    mp.set_global_policy(policy)
    step = 0.25 if policy == "mixed_float16" else 2.0
    bn = layers.BatchNormalization(momentum=0.0)
    y = bn(300.0 + np.arange(8, dtype=np.float32).reshape(8, 1) * step, training=True)
    assert y.dtype == HALF[policy] and bn.moving_variance.dtype == bn.moving_mean.dtype == gf.float32
    np.testing.assert_allclose(bn.moving_mean.numpy(), [300.0 + 3.5 * step], rtol=1e-7)
    np.testing.assert_allclose(bn.moving_variance.numpy(), [np.var(np.arange(8) * step)], rtol=1e-6)


@pytest.mark.parametrize("policy", MIXED)
def test_embedding_gathers_float32_rows_and_keeps_large_ids(policy):
    mp.set_global_policy(policy)
    emb = layers.Embedding(5000, 3)
    ids = np.array([[4097.0, 4099.0, 3]])  # NumPy float ids: not rounded through the half compute dtype
    y = emb(ids)
    assert y.dtype == HALF[policy] and emb.embeddings.dtype == gf.float32
    want = emb.embeddings.numpy()[[4097, 4099, 3]].astype(HALF[policy].np)
    np.testing.assert_array_equal(y.numpy()[0], want)


def test_custom_layer_reads_its_float32_weight_in_the_compute_dtype():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")
            self.v = self.add_weight("v", (input_shape[-1],), initializer="ones", autocast=False)

        def call(self, inputs):
            self.seen = ((self.w * 1).dtype, self.w.dtype, gf.cast(self.v, "float32").dtype)
            return inputs * self.w

    layer = Scale(dtype="mixed_bfloat16")
    y = layer(np.ones((2, 3), np.float32))
    assert y.dtype == gf.bfloat16 and layer.w.dtype == gf.float32
    assert layer.seen == (gf.bfloat16, gf.float32, gf.float32)
    # Outside a call, the weight is read as it is.
    assert (layer.w * 1).dtype == gf.float32


def test_autocast_scope_ends_with_the_call_even_when_it_raises():
    from gpuflow.tensor import AUTOCAST

    class Boom(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (1,))

        def call(self, inputs):
            assert AUTOCAST.dtype == gf.float16 and AUTOCAST.active == 1
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Boom(dtype="mixed_float16")(np.ones((1, 1), np.float32))
    assert AUTOCAST.dtype is None and AUTOCAST.active == 0
    v = gf.Variable([1.0])
    assert (v * 2.0).dtype == gf.float32  # no scope: variables read as they are


def test_inputs_cast_to_the_compute_dtype_only_when_floating():
    seen = {}

    class Probe(layers.Layer):
        def call(self, inputs, extra=None):
            seen["dtypes"] = (inputs[0].dtype, inputs[1].dtype, extra.dtype)
            return inputs[0]

    out = Probe(dtype="mixed_float16")([gf.constant([1.5], dtype="float64"), gf.constant([2])],
                                       extra=gf.constant([1.0]))
    assert seen["dtypes"] == (gf.float16, gf.int32, gf.float16) and out.dtype == gf.float16
    Probe(dtype="float32", autocast=False)([gf.constant([1.5], dtype="float64"), gf.constant([2])],
                                           extra=gf.constant([1.0], dtype="bfloat16"))
    assert seen["dtypes"] == (gf.float64, gf.int32, gf.bfloat16)


def test_float32_output_layer_in_a_mixed_model():
    mp.set_global_policy("mixed_float16")
    model = gf.keras.Sequential([gf.keras.Input((4,)), layers.Dense(3), layers.Activation("softmax", dtype="float32")])
    assert model.layers[0].compute_dtype == "float16" and model.layers[1].compute_dtype == "float32"
    y = model(_x((2, 4)))
    assert y.dtype == gf.float32 and model.outputs[0].dtype == gf.float32
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0, rtol=1e-6)
    # Functional: the Input is float32 (floatx), the first layer casts.
    inputs = gf.keras.Input((4,))
    assert inputs.dtype == gf.float32 and layers.Dense(2)(inputs).dtype == gf.float16


@pytest.mark.parametrize("policy", MIXED)
def test_gradients_reach_float32_variables(policy):
    mp.set_global_policy(policy)
    model = gf.keras.Sequential([gf.keras.Input((5,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])
    x = _x((8, 5))
    with gf.GradientTape() as tape:
        loss = gf.reduce_mean(gf.square(gf.cast(model(x), "float32")))
    grads = tape.gradient(loss, model.trainable_variables)
    assert [g.dtype for g in grads] == [gf.float32] * 4
    # Against the float32 model with the same weights.
    mp.set_global_policy(None)
    twin = gf.keras.Sequential([gf.keras.Input((5,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])
    twin.set_weights(model.get_weights())
    with gf.GradientTape() as tape:
        loss32 = gf.reduce_mean(gf.square(twin(x)))
    tol = 0.15 if policy == "mixed_bfloat16" else 0.02  # bfloat16 keeps 8 significant bits, float16 11
    for g, want in zip(grads, tape.gradient(loss32, twin.trainable_variables)):
        scale = np.abs(want.numpy()).max()
        np.testing.assert_allclose(g.numpy(), want.numpy(), atol=tol * scale + 1e-4)


# ---------------------------------------------------------------------------------------------- LossScaleOptimizer
def _var(values, dtype="float32"):
    return gf.Variable(np.asarray(values, dtype=dtype))


def test_loss_scale_skips_and_halves_on_non_finite_gradients():
    opt = mp.LossScaleOptimizer(gf.keras.optimizers.SGD(0.1), initial_scale=1024.0, dynamic_growth_steps=3)
    v = _var([1.0, 2.0])
    for bad in (np.inf, -np.inf, np.nan):
        opt.apply_gradients([(gf.constant([1.0, bad]), v)])
        np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
    assert opt.loss_scale == 128.0 and float(opt.dynamic_scale.numpy()) == 128.0
    assert int(opt.iterations.numpy()) == 0 and int(opt.step_counter.numpy()) == 0


def test_loss_scale_grows_after_n_good_steps_and_a_bad_step_resets_the_count():
    opt = mp.LossScaleOptimizer(gf.keras.optimizers.SGD(0.0), initial_scale=8.0, dynamic_growth_steps=3)
    v = _var([1.0])
    scales = []
    for g in [1, 1, 1, 1, np.inf, 1, 1, 1]:
        opt.apply_gradients([(gf.constant([float(g)]), v)])
        scales.append(opt.loss_scale)
    assert scales == [8, 8, 16, 16, 8, 8, 8, 16]
    assert int(opt.iterations.numpy()) == 7


def test_scaled_sgd_step_matches_a_float64_reference():
    rng = np.random.default_rng(3)
    p0, g_true = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    opt = mp.LossScaleOptimizer(gf.keras.optimizers.SGD(0.05, momentum=0.9), initial_scale=2.0 ** 10)
    v = _var(p0, "float64")
    # The gradient of scale_loss(loss) for loss = sum(g_true * v) is scale * g_true.
    with gf.GradientTape() as tape:
        loss = opt.scale_loss(gf.reduce_sum(gf.constant(g_true) * v))
    (g,) = tape.gradient(loss, [v])
    np.testing.assert_array_equal(g.numpy(), g_true * 2.0 ** 10)
    momentum = np.zeros_like(p0)
    p = p0.copy()
    for _ in range(3):
        opt.apply_gradients([(g, v)])
        momentum = 0.9 * momentum - 0.05 * (g.numpy() / 2.0 ** 10)
        p = p + momentum
    np.testing.assert_array_equal(v.numpy(), p)


def test_tf_keras_2_names_do_not_unscale_twice():
    opt = mp.LossScaleOptimizer(gf.keras.optimizers.SGD(1.0), initial_scale=4.0)
    v = _var([0.0])
    assert float(opt.get_scaled_loss(gf.constant(2.0))) == 8.0
    (g,) = opt.get_unscaled_gradients([gf.constant([4.0])])
    opt.apply_gradients([(g, v)])
    np.testing.assert_array_equal(v.numpy(), [-1.0])


def test_loss_scale_optimizer_arguments_and_config():
    inner = gf.keras.optimizers.Adam(0.01)
    opt = mp.LossScaleOptimizer(inner, initial_scale=256, dynamic_growth_steps=10)
    assert opt.learning_rate is inner.learning_rate and opt.iterations is inner.iterations
    opt.learning_rate = 0.5
    assert float(inner.learning_rate.numpy()) == 0.5
    again = gf.keras.optimizers.deserialize(gf.keras.optimizers.serialize(opt))
    assert isinstance(again, mp.LossScaleOptimizer) and isinstance(again.inner_optimizer, gf.keras.optimizers.Adam)
    assert (again.initial_scale, again.dynamic_growth_steps) == (256.0, 10)
    assert gf.keras.optimizers.LossScaleOptimizer is mp.LossScaleOptimizer
    with pytest.raises(TypeError, match="Optimizer instance"):
        mp.LossScaleOptimizer("adam")
    with pytest.raises(ValueError, match="dynamic=False"):
        mp.LossScaleOptimizer(inner, dynamic=False)
    with pytest.raises(ValueError, match="dynamic_growth_steps"):
        mp.LossScaleOptimizer(inner, dynamic_growth_steps=0)
    with pytest.raises(ValueError, match="initial_scale"):
        mp.LossScaleOptimizer(inner, initial_scale=-1)


def _mlp(output_float32=True):
    tail = [layers.Activation("linear", dtype="float32")] if output_float32 else []
    return gf.keras.Sequential([gf.keras.Input((8, 8)), layers.Flatten(), layers.Dense(64, activation="relu"),
                                layers.Dense(10)] + tail)


def test_compile_wraps_the_optimizer_under_mixed_float16_only():
    mp.set_global_policy("mixed_float16")
    model = _mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, mp.LossScaleOptimizer)
    assert isinstance(model.optimizer.inner_optimizer, gf.keras.optimizers.SGD)
    model.compile("sgd", "mse", auto_scale_loss=False)
    assert not isinstance(model.optimizer, mp.LossScaleOptimizer)
    mp.set_global_policy("mixed_bfloat16")
    model = _mlp()
    model.compile("sgd", "mse")
    assert not isinstance(model.optimizer, mp.LossScaleOptimizer)


def _digits():
    (x, y), (xt, yt) = gf.keras.datasets.digits.load_data()
    return (x / 16.0).astype(np.float32), y, (xt / 16.0).astype(np.float32), yt


@pytest.fixture(scope="module")
def float32_accuracy():
    return _fit_accuracy("float32")


def _fit_accuracy(policy):
    mp.set_global_policy(policy)
    try:
        gf.random.set_seed(7)
        x, y, xt, yt = _digits()
        model = _mlp()
        model.compile(gf.keras.optimizers.Adam(0.01),
                      gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        model.fit(x, y, batch_size=64, epochs=4, verbose=0)
        weights_dtypes = {v.dtype for v in model.weights}
        _, acc = model.evaluate(xt, yt, verbose=0)
        return acc, weights_dtypes, model
    finally:
        mp.set_global_policy(None)


@pytest.mark.parametrize("policy", MIXED)
def test_mixed_mlp_fit_on_digits_is_as_accurate_as_float32(policy, float32_accuracy):
    acc, weight_dtypes, model = _fit_accuracy(policy)
    assert weight_dtypes == {gf.float32}
    assert float32_accuracy[0] > 0.9
    assert acc > float32_accuracy[0] - 0.04, (acc, float32_accuracy[0])
    if policy == "mixed_float16":
        assert model.optimizer.loss_scale > 1.0 and int(model.optimizer.iterations.numpy()) > 0


def test_save_and_load_weights_under_a_mixed_policy(tmp_path):
    mp.set_global_policy("mixed_float16")
    model = _mlp()
    x = _digits()[0][:4]
    before = model.predict(x, verbose=0)
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    again = _mlp()
    again.load_weights(path)
    assert all(v.dtype == gf.float32 for v in again.weights)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.predict(x, verbose=0), before)


def test_get_config_round_trips_the_policy():
    layer = layers.Dense(3, dtype="mixed_bfloat16")
    config = layer.get_config()
    assert config["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": "mixed_bfloat16"}, "registered_name": None}
    again = layers.Dense.from_config(config)
    assert again.dtype_policy == layer.dtype_policy and again.get_config() == config
    model = gf.keras.Sequential([gf.keras.Input((3,)), layers.Dense(2, dtype="mixed_float16"), layers.Dense(1)])
    rebuilt = gf.keras.Sequential.from_config(model.get_config())
    assert [lay.dtype_policy.name for lay in rebuilt.layers] == ["mixed_float16", "float32"]
    plain = layers.Layer(autocast=False)
    assert layers.Layer.from_config(plain.get_config()).autocast is False


@pytest.mark.parametrize("policy", MIXED)
def test_mixed_dense_on_sim_matches_cpu(policy):
    mp.set_global_policy(policy)
    x = _x((3, 5), seed=1)
    with gf.device("cpu"):
        cpu_layer = layers.Dense(4, activation="relu")
        with gf.GradientTape() as tape:
            y_cpu = cpu_layer(x)
            loss = gf.reduce_sum(gf.cast(y_cpu, "float32"))
        g_cpu = tape.gradient(loss, cpu_layer.trainable_variables)
    with gf.device("sim"):
        sim_layer = layers.Dense(4, activation="relu")
        sim_layer(x)
        sim_layer.set_weights(cpu_layer.get_weights())
        with gf.GradientTape() as tape:
            y_sim = sim_layer(x)
            loss = gf.reduce_sum(gf.cast(y_sim, "float32"))
        g_sim = tape.gradient(loss, sim_layer.trainable_variables)
    assert y_sim.dtype == HALF[policy] and y_sim.device.startswith("sim")
    tol = 2e-2 if policy == "mixed_bfloat16" else 2e-3
    np.testing.assert_allclose(y_sim.numpy().astype(np.float32), y_cpu.numpy().astype(np.float32), rtol=tol,
                               atol=tol)
    for a, b in zip(g_sim, g_cpu):
        assert a.dtype == gf.float32
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)
