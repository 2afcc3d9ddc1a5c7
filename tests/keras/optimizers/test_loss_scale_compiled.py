"""A LossScaleOptimizer inside a gf.function (a compiled mixed_float16 fit): the same steps as eagerly, with the
skip-or-apply decision made on the device (no read back), or, for step scalars only the host computes, in a gf.cond.
"""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from gpuflow.keras import mixed_precision as mp
from gpuflow.keras import optimizers
from gpuflow.runtime import counters

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflowing steps overflow in NumPy too
GPU = pytest.param("cuda", marks=pytest.mark.gpu)
DEVICES = ["cpu", "sim", GPU]
# Compiled against eager: the same kernels on cpu; on sim fused kernels may sum a bias gradient in another order; on
# a GPU the device's pow (Adam's bias corrections) may differ from the host's by an ulp.
TOLERANCE = {"cpu": 0.0, "sim": 1e-6, "cuda": 1e-5}
# Each with step scalars the device computes from its step count (rate, Adam's and Adamax's powers, built-in
# schedules), and two only the host can compute (Nadam's, a schedule of the user's own): those step in a gf.cond.
class HalvingEveryThreeSteps(optimizers.schedules.LearningRateSchedule):
    def value(self, step):
        return 0.01 * 0.5 ** (step // 3)


OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(0.01),
    "adamw_amsgrad": lambda: optimizers.AdamW(0.01, weight_decay=0.1, amsgrad=True),
    "sgd_nesterov": lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.001, momentum=0.5, centered=True),
    "adamax_clipnorm": lambda: optimizers.Adamax(0.01, clipnorm=1.0),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adam_cosine_warmup": lambda: optimizers.Adam(optimizers.schedules.CosineDecay(
        0.0, 20, alpha=0.1, warmup_target=0.02, warmup_steps=3)),
    "sgd_piecewise": lambda: optimizers.SGD(optimizers.schedules.PiecewiseConstantDecay([2, 4], [0.02, 0.01, 0.005])),
    "nadam": lambda: optimizers.Nadam(0.01),
    "adam_own_schedule": lambda: optimizers.Adam(HalvingEveryThreeSteps()),
}
HOST_DECIDED = {"nadam", "adam_own_schedule"}


@pytest.fixture(autouse=True)
def mixed_float16():
    mp.set_global_policy("mixed_float16")
    yield
    mp.set_global_policy(None)


def _data(rows=16):
    rng = np.random.default_rng(0)
    # Targets in the hundreds: with a scale of 2**12 the float16 backward pass overflows, so the first steps skip.
    return rng.normal(size=(rows, 6)).astype(np.float32), (rng.normal(size=(rows, 3)) * 300).astype(np.float32)


def _model(optimizer, eager, initial_scale=2.0 ** 12, growth=2, constraint=None):
    gf.keras.utils.set_random_seed(3)
    model = gf.keras.Sequential([gf.keras.Input((6,)), layers.Dense(16, activation="relu"),
                                 layers.Dense(3, kernel_constraint=constraint), layers.Activation("linear", dtype="float32")])
    scaled = mp.LossScaleOptimizer(optimizer, initial_scale=initial_scale, dynamic_growth_steps=growth)
    model.compile(scaled, "mse", run_eagerly=eager)
    return model


def _train(device, make_optimizer, eager, steps=12, **kwargs):
    """(weights and optimizer variables at the end, (scale, iterations) after each step)."""
    x, y = _data()
    with gf.device(device):
        model = _model(make_optimizer(), eager, **kwargs)
        history = []
        for _ in range(steps):
            model.train_on_batch(x, y)
            history.append((model.optimizer.loss_scale, int(model.optimizer.iterations.numpy())))
        assert model.run_eagerly == eager
        return [v.numpy() for v in model.weights + model.optimizer.variables], history


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("device", DEVICES)
def test_compiled_steps_skip_and_grow_as_eager_ones_do(device, name):
    eager, eager_history = _train(device, OPTIMIZERS[name], eager=True)
    compiled, history = _train(device, OPTIMIZERS[name], eager=False)
    assert history == eager_history
    scales = [scale for scale, _ in history]
    assert scales[0] < 2.0 ** 12, "the first step overflows: it must be skipped and the scale halved"
    assert any(b == 2 * a for a, b in zip(scales, scales[1:])), "growth after dynamic_growth_steps good steps"
    assert any(b == a / 2 for a, b in zip(scales[3:], scales[4:])), "a later overflow halves the scale again"
    assert 0 < history[-1][1] < len(history), "iterations counts the applied steps only"
    for got, want in zip(compiled, eager):
        np.testing.assert_allclose(got, want, rtol=TOLERANCE[device], atol=TOLERANCE[device])


def _compiled_step(device, make_optimizer):
    x, y = _data(64)
    with gf.device(device):
        model = _model(make_optimizer(), eager=False, initial_scale=2.0 ** 8, growth=1000)
        step = model.make_train_function()
        good = (gf.constant(x), gf.constant(y))
        bad = (gf.constant(np.where(np.arange(64)[:, None] == 5, np.inf, x).astype(np.float32)), gf.constant(y))
    return model, step, good, bad


def _state(model):
    return [v.numpy().copy() for v in model.weights + model.optimizer.inner_optimizer.variables]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("device", ["sim", GPU])
def test_a_compiled_step_reads_nothing_back_and_updates_in_place(device, name):
    """No read back, no allocation (the memory plan; on a GPU a CUDA Graph replays it), updates in the variables'
    own buffers. Step scalars only the host computes make it a gf.cond on the flag: one read back per step."""
    model, step, good, bad = _compiled_step(device, OPTIMIZERS[name])
    optimizer = model.optimizer
    for _ in range(3):
        step(good)
    buffers = [id(v._data) for v in model.weights]
    for batch, applies in [(good, True), (bad, False), (good, True)]:
        before = _state(model)
        with counters.measure() as measured:
            step(batch)
        if name in HOST_DECIDED:
            assert measured.delta["d2h"] == 1, measured.delta
        else:
            assert measured.delta["d2h"] == 0 and measured.delta["pool_allocs"] == 0, measured.delta
        after = _state(model)
        if applies:
            assert not np.array_equal(before[0], after[0])
        else:  # weights, slots and iterations as they were, bit for bit
            for a, b in zip(before, after):
                np.testing.assert_array_equal(a, b)
    if name not in HOST_DECIDED:
        assert [id(v._data) for v in model.weights] == buffers  # the gated updates still write in place
    assert (optimizer.loss_scale, int(optimizer.iterations.numpy()), int(optimizer.step_counter.numpy())) == \
        (2.0 ** 7, 5, 1)


@pytest.mark.parametrize("device", DEVICES)
def test_a_skipped_step_does_not_apply_the_constraint_again(device):
    """Keras' MaxNorm scales by max / (eps + norm): not idempotent, so it must not run on a skipped step."""
    constraint = gf.keras.constraints.MaxNorm(0.1)
    results = [_train(device, OPTIMIZERS["adam"], eager, steps=6, constraint=constraint) for eager in (True, False)]
    assert results[0][1] == results[1][1]
    for got, want in zip(results[1][0], results[0][0]):
        np.testing.assert_allclose(got, want, rtol=max(TOLERANCE[device], 1e-6), atol=1e-7)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("keras_2_names", [False, True])
def test_custom_training_loop_in_a_gf_function(device, keras_2_names):
    """scale_loss / get_scaled_loss and get_unscaled_gradients inside a gf.function read the scale on the device
    (not the value at trace time): the scale changes between calls."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)
    runs = []
    for compiled in (False, True):
        with gf.device(device):
            gf.keras.utils.set_random_seed(0)
            model = gf.keras.Sequential([gf.keras.Input((4,)), layers.Dense(2, dtype="float32")])
            model.build((None, 4))
            opt = mp.LossScaleOptimizer(optimizers.Adam(0.1), initial_scale=2.0 ** 122, dynamic_growth_steps=2)

            def train_step(a, b):
                with gf.GradientTape() as tape:
                    loss = gf.reduce_mean(gf.square(model(a) - b)) * 64.0  # float32 overflows at 2**122
                    scaled = opt.get_scaled_loss(loss) if keras_2_names else opt.scale_loss(loss)
                grads = tape.gradient(scaled, model.trainable_variables)
                if keras_2_names:
                    grads = opt.get_unscaled_gradients(grads)
                opt.apply_gradients(zip(grads, model.trainable_variables))
                return loss

            step = gf.function(train_step) if compiled else train_step
            scales = []
            for _ in range(6):
                step(gf.constant(x), gf.constant(y))
                scales.append(opt.loss_scale)
            runs.append((scales, int(opt.iterations.numpy()), [w.numpy() for w in model.weights]))
            if compiled:
                assert step.experimental_get_tracing_count() == 1
    (eager_scales, eager_steps, eager_weights), (scales, steps, weights) = runs
    assert scales == eager_scales and steps == eager_steps
    # overflow at 2**122, two good steps, growth, overflow again...
    assert scales == [2.0 ** 121, 2.0 ** 121, 2.0 ** 122, 2.0 ** 121, 2.0 ** 121, 2.0 ** 122] and steps == 4
    for got, want in zip(weights, eager_weights):
        np.testing.assert_allclose(got, want, rtol=max(TOLERANCE[device], 1e-6))


def test_compiled_mixed_fit_is_not_eager():
    x, y = _data(64)
    model = _model(optimizers.Adam(0.01), eager=False, initial_scale=2.0 ** 10)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert model.train_function.experimental_get_tracing_count() == 1
    assert int(model.optimizer.iterations.numpy()) > 0


@pytest.mark.parametrize("device", DEVICES)
def test_a_scale_that_is_not_a_power_of_two_divides_alike(device):
    """The compiled step divides by the float32 variable; eager steps divide by the same float32 number (not the
    float64 one given), so float64 weights end bit for bit alike."""
    results = []
    for compiled in (False, True):
        with gf.device(device):
            v = gf.Variable(np.linspace(-1.0, 1.0, 5))
            opt = mp.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=1000.1)

            def step(scaled_gradient):
                opt.apply_gradients([(scaled_gradient, v)])

            run = gf.function(step) if compiled else step
            for i in range(3):
                run(gf.constant(np.linspace(1.0, 7.0, 5) * (i + 1)))
            results.append(v.numpy())
    np.testing.assert_array_equal(results[1], results[0])
