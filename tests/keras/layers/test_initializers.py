"""Initializers: statistics and limits of the variance-scaling family, fans, determinism, configs."""
import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import initializers

SHAPE = (200, 300)  # 60,000 draws: the sample std is within ~1% of the true one


@pytest.mark.parametrize("name,scale,mode,uniform", [
    ("glorot_uniform", 1, "avg", True), ("glorot_normal", 1, "avg", False), ("he_uniform", 2, "in", True),
    ("he_normal", 2, "in", False), ("lecun_uniform", 1, "in", True), ("lecun_normal", 1, "in", False)])
def test_variance_scaling_statistics(name, scale, mode, uniform):
    fan = {"in": SHAPE[0], "avg": sum(SHAPE) / 2}[mode]
    std = math.sqrt(scale / fan)
    w = initializers.get(name)(SHAPE).numpy()
    assert w.shape == SHAPE and w.dtype == np.float32
    w = w.astype(np.float64)
    assert abs(w.mean()) < 0.02 * std
    assert w.std() == pytest.approx(std, rel=0.02)
    if uniform:
        limit = math.sqrt(3) * std
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    else:  # truncated at two standard deviations of the underlying normal
        assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-6


def test_conv_kernel_fans_count_the_receptive_field():
    assert initializers.compute_fans((3, 3, 16, 32)) == (3 * 3 * 16, 3 * 3 * 32)
    assert initializers.compute_fans((5, 8, 4)) == (40, 20)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans(()) == (1, 1)
    w = initializers.HeUniform()((3, 3, 16, 32)).numpy()
    assert np.abs(w).max() <= math.sqrt(6 / 144)


def test_random_uniform_normal_truncated():
    u = initializers.RandomUniform(-1.0, 3.0)(SHAPE).numpy()
    assert u.min() >= -1 and u.max() <= 3 and u.mean() == pytest.approx(1.0, abs=0.02)
    n = initializers.RandomNormal(mean=2.0, stddev=0.5)(SHAPE).numpy()
    assert n.mean() == pytest.approx(2.0, abs=0.01) and n.std() == pytest.approx(0.5, rel=0.02)
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.1)(SHAPE).numpy()
    assert t.min() >= 0.8 - 1e-6 and t.max() <= 1.2 + 1e-6


def test_constants_orthogonal_identity():
    assert (initializers.get("zeros")((2, 3)).numpy() == 0).all()
    assert (initializers.Ones()((4,), dtype="float64").numpy() == 1).all()
    assert (initializers.Constant(2.5)((2, 2)).numpy() == 2.5).all()
    for shape in [(6, 4), (4, 6), (2, 3, 4)]:
        q = initializers.Orthogonal(gain=2.0)(shape).numpy().reshape(-1, shape[-1]).astype(np.float64)
        small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(small, 4 * np.eye(min(q.shape)), atol=1e-5)
    np.testing.assert_array_equal(initializers.Identity(3.0)((2, 3)).numpy(), 3 * np.eye(2, 3))


def test_set_seed_makes_draws_repeatable_and_seeded_ones_repeat():
    gf.random.set_seed(7)
    a = [initializers.GlorotUniform()((5, 4)).numpy() for _ in range(2)]
    gf.random.set_seed(7)
    b = [initializers.GlorotUniform()((5, 4)).numpy() for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])
    seeded = initializers.HeNormal(seed=3)
    np.testing.assert_array_equal(seeded((5, 4)).numpy(), seeded((5, 4)).numpy())
    assert not np.array_equal(seeded((5, 4)).numpy(), initializers.HeNormal(seed=4)((5, 4)).numpy())


def test_draws_land_on_the_current_device():
    with gf.device("sim"):
        w = initializers.GlorotUniform()((3, 2))
    assert w.device == "sim:0"


@pytest.mark.parametrize("init", [initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=5),
                                  initializers.RandomUniform(-2, 2, seed=1), initializers.TruncatedNormal(0, 3),
                                  initializers.Constant(4.0), initializers.Orthogonal(0.5), initializers.GlorotNormal(9),
                                  initializers.Zeros(), initializers.Identity(2.0)])
def test_config_round_trip(init):
    again = initializers.deserialize(initializers.serialize(init))
    assert type(again) is type(init) and again.get_config() == init.get_config()
    if getattr(init, "seed", None) is not None:
        np.testing.assert_array_equal(again((3, 3)).numpy(), init((3, 3)).numpy())


def test_get_accepts_names_dicts_and_callables_and_rejects_unknown():
    assert isinstance(initializers.get("he_normal"), initializers.HeNormal)
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("uniform"), initializers.RandomUniform)
    fn = lambda shape, dtype=None: gf.zeros(shape)  # noqa: E731
    assert initializers.get(fn) is fn and initializers.get(None) is None
    with pytest.raises(ValueError, match="unknown initializer 'he_nromal'"):
        initializers.get("he_nromal")
    with pytest.raises(ValueError, match="floating-point"):
        initializers.Zeros()((2,), dtype="int32")
    with pytest.raises(ValueError, match="mode must be one of"):
        initializers.VarianceScaling(mode="fan_sum")
