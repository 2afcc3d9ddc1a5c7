"""Learning-rate schedules: values at several steps vs the closed forms, configs, use by an optimizer."""
import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras.optimizers import schedules

STEPS = [0, 1, 7, 10, 15, 25, 40]


def _check(schedule, closed_form):
    for step in STEPS:
        assert float(schedule(step)) == pytest.approx(closed_form(step), rel=1e-6), f"step {step}"
    again = schedules.deserialize(schedules.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()


def test_exponential_decay():
    _check(schedules.ExponentialDecay(0.1, 10, 0.5), lambda s: 0.1 * 0.5 ** (s / 10))
    _check(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), lambda s: 0.1 * 0.5 ** (s // 10))


def test_inverse_time_decay():
    _check(schedules.InverseTimeDecay(0.2, 5, 0.3), lambda s: 0.2 / (1 + 0.3 * s / 5))
    _check(schedules.InverseTimeDecay(0.2, 5, 0.3, staircase=True), lambda s: 0.2 / (1 + 0.3 * (s // 5)))


def test_piecewise_constant_decay():
    _check(schedules.PiecewiseConstantDecay([1, 10, 20], [1.0, 0.5, 0.25, 0.1]),
           lambda s: 1.0 if s <= 1 else 0.5 if s <= 10 else 0.25 if s <= 20 else 0.1)


def test_polynomial_decay():
    _check(schedules.PolynomialDecay(0.1, 20, 0.01, power=2.0),
           lambda s: (0.1 - 0.01) * (1 - min(s, 20) / 20) ** 2 + 0.01)

    def cyclic(s):
        steps = 20 * max(math.ceil(s / 20), 1)
        return (0.1 - 0.01) * (1 - s / steps) ** 0.5 + 0.01
    _check(schedules.PolynomialDecay(0.1, 20, 0.01, power=0.5, cycle=True), cyclic)


def test_cosine_decay():
    _check(schedules.CosineDecay(0.1, 20, alpha=0.1),
           lambda s: 0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + 0.1))


def test_cosine_decay_with_linear_warmup():
    def closed(s):
        if s < 10:
            return 0.0 + (0.2 - 0.0) * s / 10
        return 0.2 * 0.5 * (1 + math.cos(math.pi * min(s - 10, 20) / 20))
    _check(schedules.CosineDecay(0.0, 20, warmup_target=0.2, warmup_steps=10), closed)


def test_called_with_a_tensor_step_returns_a_float32_tensor():
    out = schedules.ExponentialDecay(1.0, 2, 0.5)(gf.constant(4, dtype="int64"))
    assert isinstance(out, gf.Tensor) and out.dtype == gf.float32 and float(out) == 0.25


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="one more value"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(TypeError, match="called with the step"):
        schedules.CosineDecay(0.1, 10)("soon")


def test_optimizer_reads_the_schedule_each_step():
    schedule = schedules.ExponentialDecay(0.1, 1, 0.5)
    optimizer = gf.keras.optimizers.SGD(schedule)
    v = gf.Variable(np.zeros(2, np.float32))
    for step in range(4):
        assert float(optimizer.learning_rate) == pytest.approx(0.1 * 0.5 ** step)
        optimizer.apply_gradients([(gf.constant(np.ones(2, np.float32)), v)])
    np.testing.assert_allclose(v.numpy(), -sum(0.1 * 0.5 ** s for s in range(4)), rtol=1e-6)
    config = gf.keras.optimizers.serialize(optimizer)
    again = gf.keras.optimizers.deserialize(config)
    assert isinstance(again.get_config()["learning_rate"], dict) and float(again.learning_rate) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="schedule"):
        optimizer.learning_rate = 0.01


BUILT_IN = [schedules.ExponentialDecay(0.1, 10, 0.5), schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
            schedules.InverseTimeDecay(0.2, 5, 0.3), schedules.InverseTimeDecay(0.2, 5, 0.3, staircase=True),
            schedules.PiecewiseConstantDecay([1, 10, 20], [1.0, 0.5, 0.25, 0.1]),
            schedules.PolynomialDecay(0.1, 20, 0.01, power=2.0),
            schedules.PolynomialDecay(0.1, 20, 0.01, power=0.5, cycle=True), schedules.CosineDecay(0.1, 20, alpha=0.1),
            schedules.CosineDecay(0.0, 20, warmup_target=0.2, warmup_steps=10)]


@pytest.mark.parametrize("device", ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("schedule", BUILT_IN, ids=lambda s: f"{type(s).__name__}{sorted(s.get_config().items())}")
def test_the_same_formula_on_a_device_step(schedule, device):
    """What a compiled step that counts its steps on the device computes (a LossScaleOptimizer's): the host's rate,
    bit for bit where the device's libm is the host's (cpu, sim); on a GPU within an ulp or two of float32."""
    assert schedules.rate_on_device(schedule, None)
    with gf.device(device):
        for step in STEPS + [9, 10, 11, 77]:
            got = schedules.rate_on_device(schedule, gf.constant(float(step), dtype="float64"))
            assert got.dtype == gf.float64 and got.shape == ()
            want = float(schedule(step))
            if device == "cuda":
                assert float(got) == pytest.approx(want, rel=3e-7)
            else:
                assert float(got) == want, f"step {step}"


def test_only_the_built_in_formulas_run_on_a_device():
    class Own(schedules.LearningRateSchedule):
        def value(self, step):
            return 0.1

    class Tweaked(schedules.ExponentialDecay):
        def value(self, step):
            return 2 * super().value(step)

    class Called(schedules.CosineDecay):
        def __call__(self, step):
            return super().__call__(step) * 2

    for schedule in (Own(), Tweaked(0.1, 10, 0.5), Called(0.1, 10)):
        assert schedules.rate_on_device(schedule, None) is None
        assert schedules.rate_on_device(schedule, gf.constant(1.0, dtype="float64")) is None


def _sgdr_reference(step, initial, first, t_mul, m_mul, alpha):
    """Keras 3's CosineDecayRestarts, written out with a loop over the periods."""
    start, length, peak = 0.0, float(first), 1.0
    while step >= start + length:
        start, length, peak = start + length, length * t_mul, peak * m_mul
    cosine = 0.5 * peak * (1 + np.cos(np.pi * (step - start) / length))
    return initial * ((1 - alpha) * cosine + alpha)


@pytest.mark.parametrize("t_mul, m_mul, alpha", [(2.0, 0.5, 0.1), (1.0, 1.0, 0.0), (1.5, 0.8, 0.05)])
def test_cosine_decay_restarts(t_mul, m_mul, alpha):
    schedule = gf.keras.optimizers.schedules.CosineDecayRestarts(0.3, 10, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    from gpuflow.keras.optimizers import schedules as module
    for step in (0, 3, 9, 10, 11, 29, 30, 47, 100):
        expected = _sgdr_reference(step, 0.3, 10, t_mul, m_mul, alpha)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-7)
        on_device = schedule._formula(gf.constant(float(step), gf.float64), module._DEVICE)
        assert float(on_device) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    again = gf.keras.optimizers.schedules.deserialize(gf.keras.optimizers.schedules.serialize(schedule))
    assert again.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="t_mul must be > 0"):
        gf.keras.optimizers.schedules.CosineDecayRestarts(0.1, 10, t_mul=0.0)
