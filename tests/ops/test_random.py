"""Philox draws and dropout: the same bits on cpu and sim, sane distributions, seeding rules,
dropout's scale, keep rate and gradient mask."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import nn_prims, random_prims
from tests.harness import rand

FLOATS = [gf.float16, gf.bfloat16, gf.float32, gf.float64]
N = 100_000
SHAPES = [(0,), (1,), (3,), (5, 7), (1001,), (2, 2049)]  # 2049 * 2: a partial last Philox block
UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def draw(prim, device, shape, dtype, key=0x1234_5678_9ABC_DEF0, offset=3):
    with gf.device(device):
        offset = gf.constant(offset, dtype=gf.int64)
    return prim(offset, shape=tuple(shape), dtype=dtype, key=key).numpy()


def bits(a):
    return a.view(UINT[a.dtype.itemsize])


def test_philox_known_answer():
    # Random123's kat_vectors for philox4x32_10, counter 0 and key 0: four uniform words, seen
    # through the float64 uniform (bits * 2^-32, exact).
    for device in ("cpu", "sim"):
        u = draw(random_prims.random_uniform, device, (4,), gf.float64, key=0, offset=0)
        words = (u * 2.0 ** 32).astype(np.uint64)
        assert [hex(w) for w in words] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"], device


@pytest.mark.parametrize("prim", [random_prims.random_uniform, random_prims.random_normal,
                                  random_prims.truncated_normal], ids=lambda p: p.name)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_cpu_and_sim_draw_identical_bits(prim, dtype):
    # Uniforms are integer arithmetic: identical everywhere. Normals go through double log/cos,
    # where NumPy's and the C library's results may differ in the last bit; rounded to float32
    # or narrower that vanishes (identical bits), in float64 it is allowed: at most 2 ulp.
    for shape in SHAPES:
        cpu, sim = draw(prim, "cpu", shape, dtype), draw(prim, "sim", shape, dtype)
        assert cpu.dtype == sim.dtype == dtype.np and cpu.shape == sim.shape == shape
        what = f"{prim.name} {dtype.name} {shape}"
        if dtype == gf.float64 and prim is not random_prims.random_uniform:
            ulps = np.abs(bits(sim).astype(np.int64) - bits(cpu).astype(np.int64))
            assert ulps.max(initial=0) <= 2, what
        else:
            np.testing.assert_array_equal(bits(sim), bits(cpu), err_msg=what)


def test_streams_depend_on_key_and_offset():
    base = draw(random_prims.random_uniform, "sim", (64,), gf.float32)
    other_offset = draw(random_prims.random_uniform, "sim", (64,), gf.float32, offset=4)
    other_key = draw(random_prims.random_uniform, "sim", (64,), gf.float32, key=1)
    assert (base != other_offset).mean() > 0.9 and (base != other_key).mean() > 0.9


def test_the_offset_is_one_int64_read_on_the_device():
    # 0-d or shape [1]; the kernels take its low 32 bits as the counter word, as the NumPy streams do.
    for device in ("cpu", "sim"):
        base = draw(random_prims.random_uniform, device, (9,), gf.float32, key=5, offset=3)
        with gf.device(device):
            wide = random_prims.random_uniform(gf.constant([3 + 2 ** 32], dtype=gf.int64), shape=(9,),
                                               dtype=gf.float32, key=5).numpy()
            x = gf.constant(rand((9,), "float32", seed=1))
            masks = [prims_dropout(x, gf.constant(o, dtype=gf.int64)) for o in (3, [3], 3 + 2 ** 32)]
        np.testing.assert_array_equal(wide, base, err_msg=device)
        for mask in masks[1:]:
            np.testing.assert_array_equal(mask, masks[0], err_msg=device)
    with pytest.raises(InvalidArgumentError, match=r"random.normal: the Philox offset must be an int64 tensor of "
                                                   r"one element \(0-d or \[1\]\), got int32\[\]"):
        random_prims.random_normal(gf.constant(0), shape=(3,), dtype=gf.float32, key=0)
    with pytest.raises(InvalidArgumentError, match=r"dropout: the Philox offset .* got int64\[2\]"):
        prims_dropout(gf.constant([1.0]), gf.constant([0, 1], dtype=gf.int64))


def prims_dropout(x, offset):
    return nn_prims.dropout(x, offset, rate=0.5, key=5).numpy()


def test_uniform_distribution(device):
    for dtype in (gf.float32, gf.float64):
        u = gf.random.uniform((N,), dtype=dtype).numpy()
        assert u.min() >= 0 and u.max() < 1
        assert abs(u.mean() - 0.5) < 0.005 and abs(u.std() - 12 ** -0.5) < 0.003
    u = gf.random.uniform((N,), minval=-2.0, maxval=3.0).numpy()
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.03
    # counts per tenth: each within 5 sigma of N/10
    counts = np.bincount((gf.random.uniform((N,)).numpy() * 10).astype(int), minlength=10)
    assert np.all(np.abs(counts - N / 10) < 5 * np.sqrt(N * 0.09))


def test_integer_uniform(device):
    k = gf.random.uniform((N,), minval=-3, maxval=5, dtype=gf.int32).numpy()
    assert k.dtype == np.int32 and k.min() == -3 and k.max() == 4
    assert np.all(np.abs(np.bincount(k + 3) - N / 8) < 5 * np.sqrt(N / 8))


def test_normal_distribution(device):
    z = gf.random.normal((N,)).numpy().astype(np.float64)
    assert abs(z.mean()) < 0.016 and abs(z.std() - 1) < 0.012
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.008  # the bell's shape, not only its moments
    z = gf.random.normal((N,), mean=3.0, stddev=0.5).numpy()
    assert abs(z.mean() - 3) < 0.008 and abs(z.std() - 0.5) < 0.006


def test_truncated_normal_distribution(device):
    z = gf.random.truncated_normal((N,)).numpy().astype(np.float64)
    assert np.abs(z).max() < 2
    # the standard normal cut at ±2 has standard deviation 0.8796
    assert abs(z.mean()) < 0.014 and abs(z.std() - 0.8796) < 0.01
    z = gf.random.truncated_normal((N,), mean=1.0, stddev=2.0).numpy()
    assert z.min() > -3 and z.max() < 5


def test_set_seed_repeats_the_sequence(device):
    gf.random.set_seed(7)
    a, b = gf.random.uniform((50,)).numpy(), gf.random.normal((50,)).numpy()
    gf.random.set_seed(7)
    np.testing.assert_array_equal(gf.random.uniform((50,)).numpy(), a)
    np.testing.assert_array_equal(gf.random.normal((50,)).numpy(), b)
    assert not np.array_equal(gf.random.uniform((50,)).numpy(), a)  # the next draw moves on
    gf.random.set_seed(8)
    assert not np.array_equal(gf.random.uniform((50,)).numpy(), a)


def test_op_seed_selects_a_separate_stream(device):
    gf.random.set_seed(1)
    a = gf.random.uniform((50,), seed=5).numpy()
    b = gf.random.uniform((50,), seed=6).numpy()
    gf.random.set_seed(1)
    gf.random.uniform((50,))  # draws without the op seed do not move seed 5's stream
    np.testing.assert_array_equal(gf.random.uniform((50,), seed=5).numpy(), a)
    assert not np.array_equal(a, b)


def test_same_seed_same_numbers_on_every_device():
    out = {}
    for device in ("cpu", "sim"):
        with gf.device(device):
            gf.random.set_seed(42)
            out[device] = [gf.random.uniform((333,)).numpy(), gf.random.normal((333,), dtype=gf.float16).numpy(),
                           gf.random.truncated_normal((333,), dtype=gf.bfloat16).numpy()]
    for c, s in zip(out["cpu"], out["sim"]):
        np.testing.assert_array_equal(bits(s), bits(c))


# ---- dropout -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_dropout_identical_bits_cpu_and_sim(dtype, rate):
    x = rand((3, 1001), dtype.name, 0.5, 2.0, seed=2)
    out = {}
    for device in ("cpu", "sim"):
        with gf.device(device):
            gf.random.set_seed(11)
            out[device] = gf.nn.dropout(gf.constant(x), rate).numpy()
    np.testing.assert_array_equal(bits(out["sim"]), bits(out["cpu"]))


def test_dropout_keep_rate_and_scale(device):
    x = rand((N,), "float32", 0.5, 2.0, seed=3)
    for rate in (0.2, 0.7):
        y = gf.nn.dropout(gf.constant(x), rate).numpy()
        kept = y != 0
        assert abs(kept.mean() - (1 - rate)) < 0.01
        scale = np.float32(1) / (np.float32(1) - np.float32(rate))
        np.testing.assert_array_equal(y[kept], x[kept] * scale)


def test_dropout_rate_zero_and_one(device):
    x = gf.constant(rand((17,), "float32", seed=4))
    np.testing.assert_array_equal(gf.nn.dropout(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(gf.nn.dropout(x, 1.0).numpy(), np.zeros(17, np.float32))


def test_dropout_gradient_uses_the_forward_mask(device):
    x = gf.constant(rand((4, 999), "float32", 0.5, 2.0, seed=5))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.nn.dropout(x, 0.4)
        loss = gf.reduce_sum(y * 3.0)
    g = tape.gradient(loss, x).numpy()
    kept = y.numpy() != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(g[kept], 3.0 / 0.6, rtol=1e-6)
    assert np.all(g[~kept] == 0)


def test_bad_arguments():
    with pytest.raises(InvalidArgumentError, match=r"dropout: rate must be in \[0, 1\)"):
        gf.nn.dropout(gf.constant([1.0]), 1.5)
    with pytest.raises(InvalidArgumentError, match=r"random.normal: dtype must be .*got int32"):
        gf.random.normal((3,), dtype=gf.int32)
    with pytest.raises(InvalidArgumentError, match=r"random.uniform: shape \[2, -1\] has a negative dimension"):
        gf.random.uniform((2, -1))
