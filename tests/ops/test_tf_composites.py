"""TF's composite math, nn and clipping functions (divide_no_nan, xlogy, xdivy, squared_difference, is_inf,
log_sigmoid, selu, softsign, l2_normalize, clip_by_norm, global_norm, clip_by_global_norm, linspace, in_top_k):
values against NumPy references written from TF's definitions, on every device, with broadcasting, empty
tensors and the special points each defines (0, inf, NaN); their gradients there; and the errors for bad input.
Gradients away from those points are checked against autograd in test_grad_oracle.py."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError


def _rng(seed):
    return np.random.default_rng(seed)


def _special(shape, seed):
    """Random floats with zeros, infs and NaNs sprinkled in."""
    x = _rng(seed).normal(size=shape).astype(np.float32)
    flat = x.reshape(-1)
    if flat.size:
        picks = _rng(seed + 1).choice(flat.size, size=min(flat.size, 6), replace=False)
        flat[picks] = np.array([0.0, 0.0, np.inf, -np.inf, np.nan, 0.0], np.float32)[:len(picks)]
    return x


def _np_divide_no_nan(x, y):
    with np.errstate(all="ignore"):
        return np.where(y == 0, 0.0, x / np.where(y == 0, 1.0, y)).astype(x.dtype)


def _np_xlogy(x, y):
    with np.errstate(all="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y))).astype(x.dtype)


def _np_xdivy(x, y):
    with np.errstate(all="ignore"):
        return np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y)).astype(x.dtype)


SHAPES = [((4, 5), (4, 5)), ((3, 1, 5), (4, 1)), ((6,), ()), ((0, 3), (3,))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name, reference", [("divide_no_nan", _np_divide_no_nan), ("xlogy", _np_xlogy),
                                             ("xdivy", _np_xdivy)])
def test_guarded_division_and_log(device, name, reference, shapes):
    x, y = _special(shapes[0], 1), _special(shapes[1], 3)
    y = np.abs(y) if name == "xlogy" else y  # (a negative y gives NaN in both; kept for the zeros and infs)
    got = getattr(gf.math, name)(gf.constant(x), gf.constant(y)).numpy()
    np.testing.assert_allclose(got, reference(x, y), rtol=1e-6, equal_nan=True)


def test_guarded_points_follow_tf():
    nan, inf = np.nan, np.inf
    x = gf.constant([nan, inf, 1.0, 0.0, -2.0])
    y = gf.constant([0.0, 0.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(gf.math.divide_no_nan(x, y).numpy(), [0, 0, 0, 0, -0.5])
    np.testing.assert_array_equal(gf.math.xlogy(gf.constant([0.0, 0.0, 1.0]), gf.constant([0.0, nan, 0.0])).numpy(),
                                  [0, 0, -inf])
    np.testing.assert_array_equal(gf.math.xdivy(gf.constant([0.0, 0.0, 1.0]), gf.constant([0.0, nan, 0.0])).numpy(),
                                  [0, 0, inf])


@pytest.mark.parametrize("op, x, y, dx, dy", [
    ("divide_no_nan", [3.0, 0.0, 2.0], [0.0, 0.0, 4.0], [0, 0, 0.25], [0, 0, -2 / 16]),
    ("xlogy", [0.0, 0.0, 2.0], [0.0, 5.0, 4.0], [0, 0, np.log(4)], [0, 0, 0.5]),
    ("xdivy", [0.0, 0.0, 2.0], [0.0, 5.0, 4.0], [0, 0, 0.25], [0, 0, -2 / 16])])
def test_gradients_at_the_guarded_points_are_tf_s_zeros(op, x, y, dx, dy):
    """Where the result is defined as 0, TF's gradients are 0 too (not NaN from the branch not taken)."""
    x, y = gf.constant(x), gf.constant(y)
    with gf.GradientTape() as tape:
        tape.watch([x, y])
        out = getattr(gf.math, op)(x, y)
    got_dx, got_dy = tape.gradient(out, [x, y])
    np.testing.assert_allclose(got_dx.numpy(), dx, rtol=1e-6)
    np.testing.assert_allclose(got_dy.numpy(), dy, rtol=1e-6)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_squared_difference(device, shapes):
    x, y = _rng(4).normal(size=shapes[0]), _rng(5).normal(size=shapes[1])
    got = gf.math.squared_difference(gf.constant(x), gf.constant(y)).numpy()
    np.testing.assert_allclose(got, (x - y) ** 2, rtol=1e-12)
    ints = gf.math.squared_difference(gf.constant([3, -4], gf.int32), gf.constant([1, 1], gf.int32))
    assert ints.dtype == gf.int32 and ints.numpy().tolist() == [4, 25]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_is_inf_and_log_sigmoid(device, dtype):
    x = _special((7, 3), 6).astype(dtype)
    np.testing.assert_array_equal(gf.math.is_inf(gf.constant(x)).numpy(), np.isinf(x))
    big = np.array([-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4], dtype)  # no overflow at either end
    expected = -np.logaddexp(0.0, -big.astype(np.float64))
    got = gf.math.log_sigmoid(gf.constant(big)).numpy().astype(np.float64)
    half = dtype == np.float16  # (log_sigmoid(30) = -9.4e-14 is below half's smallest value: -0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-3 if half else 1e-6, atol=1e-7 if half else 0)


def test_selu_softsign_and_keras_activations_agree(device):
    x = _rng(7).normal(size=(5, 4)).astype(np.float32) * 3
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(gf.nn.selu(gf.constant(x)).numpy(), scale * np.where(x > 0, x, alpha * np.expm1(x)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gf.nn.softsign(gf.constant(x)).numpy(), x / (1 + np.abs(x)), rtol=1e-6)
    for name in ("selu", "softsign"):
        np.testing.assert_array_equal(getattr(gf.keras.activations, name)(gf.constant(x)).numpy(),
                                      getattr(gf.nn, name)(gf.constant(x)).numpy())


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
def test_l2_normalize(device, axis):
    x = _rng(8).normal(size=(3, 4, 5))
    x[1] = 0.0  # an all-zero slice: divided by sqrt(epsilon), so it stays 0
    norm = np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), 1e-12))
    np.testing.assert_allclose(gf.nn.l2_normalize(gf.constant(x), axis=axis).numpy(), x / norm, rtol=1e-12)
    np.testing.assert_array_equal(gf.math.l2_normalize(gf.constant(x), dim=axis).numpy(),
                                  gf.linalg.l2_normalize(gf.constant(x), axis).numpy())


@pytest.mark.parametrize("axes", [None, [1], [0, 1]], ids=str)
def test_clip_by_norm(device, axes):
    t = _rng(9).normal(size=(4, 6)) * 3
    t[2] = 0.0
    squares = np.sum(t * t, axis=None if axes is None else tuple(axes), keepdims=True)
    expected = t * 2.0 / np.maximum(np.sqrt(squares), 2.0)
    np.testing.assert_allclose(gf.clip_by_norm(gf.constant(t), 2.0, axes=axes).numpy(), expected, rtol=1e-12)


def test_clip_by_norm_gradient_is_finite_for_a_zero_tensor():
    t = gf.zeros((3,), gf.float64)
    with gf.GradientTape() as tape:
        tape.watch(t)
        out = gf.clip_by_norm(t, 1.0)
    np.testing.assert_array_equal(tape.gradient(out, t).numpy(), [1.0, 1.0, 1.0])


def test_global_norm_and_clip_by_global_norm(device):
    a, b = _rng(10).normal(size=(3, 4)), _rng(11).normal(size=(5,))
    norm = np.sqrt(np.sum(a * a) + np.sum(b * b))
    assert gf.linalg.global_norm([gf.constant(a), None, gf.constant(b)]).numpy() == pytest.approx(norm, rel=1e-12)
    for clip in (norm / 2, norm * 2):
        clipped, got_norm = gf.clip_by_global_norm([gf.constant(a), None, gf.constant(b)], clip)
        assert clipped[1] is None and got_norm.numpy() == pytest.approx(norm, rel=1e-12)
        scale = clip / max(norm, clip)
        np.testing.assert_allclose(clipped[0].numpy(), a * scale, rtol=1e-12)
        np.testing.assert_allclose(clipped[2].numpy(), b * scale, rtol=1e-12)
    clipped, _ = gf.clip_by_global_norm([gf.constant(a)], 1.0, use_norm=gf.constant(np.inf, gf.float64))
    assert np.isnan(clipped[0].numpy()).all()  # an overflowed gradient comes back NaN, as in TF
    clipped, got_norm = gf.clip_by_global_norm([gf.zeros((2,))], 1.0)
    assert got_norm.numpy() == 0 and clipped[0].numpy().tolist() == [0, 0]


def test_clipping_errors():
    with pytest.raises(TypeError, match="global_norm: t_list must be a list"):
        gf.linalg.global_norm(gf.ones((2,)))
    with pytest.raises(TypeError, match="clip_by_global_norm: t_list must be a list"):
        gf.clip_by_global_norm(gf.ones((2,)), 1.0, use_norm=1.0)
    with pytest.raises(TypeError, match="different dtypes"):
        gf.linalg.global_norm([gf.ones((2,)), gf.ones((2,), gf.float64)])
    with pytest.raises(ValueError, match="holds no tensor"):
        gf.linalg.global_norm([None])


@pytest.mark.parametrize("start, stop, num, axis", [
    (0.0, 1.0, 5, 0), (-3.5, 7.25, 1, 0), (2.0, 3.0, 0, 0), (1.0, -1.0, 2, 0), (0.1, 0.7, 17, 0),
    ([0.0, 10.0], [1.0, 20.0], 4, -1), ([[0.0], [5.0]], [1.0, 2.0, 3.0], 3, 1)], ids=str)
def test_linspace(device, start, stop, num, axis):
    s, e = np.asarray(start, np.float32), np.asarray(stop, np.float32)
    got = gf.linspace(gf.constant(s), gf.constant(e), num, axis=axis).numpy()
    expected = np.linspace(s.astype(np.float64), e.astype(np.float64), num, axis=axis)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    if num > 1:  # both ends exact
        first, last = np.take(got, 0, axis=axis), np.take(got, -1, axis=axis)
        shape = np.broadcast_shapes(s.shape, e.shape)
        np.testing.assert_array_equal(first, np.broadcast_to(s, shape))
        np.testing.assert_array_equal(last, np.broadcast_to(e, shape))


def test_linspace_python_numbers_gradients_and_errors():
    assert gf.linspace(0, 10, 3).dtype == gf.float32
    assert gf.linspace(gf.constant(0.0, gf.float64), 1.0, 3).dtype == gf.float64
    start, stop = gf.constant(1.0, gf.float64), gf.constant(3.0, gf.float64)
    with gf.GradientTape() as tape:
        tape.watch([start, stop])
        out = gf.reduce_sum(gf.linspace(start, stop, 5) * gf.constant([1.0, 2.0, 3.0, 4.0, 5.0], gf.float64))
    d_start, d_stop = tape.gradient(out, [start, stop])  # value k = start + k/4 (stop - start)
    weights = np.arange(1, 6)
    t = np.arange(5) / 4
    assert d_start.numpy() == pytest.approx(np.sum(weights * (1 - t)))
    assert d_stop.numpy() == pytest.approx(np.sum(weights * t))
    with pytest.raises(InvalidArgumentError, match="linspace: num must be >= 0"):
        gf.linspace(0.0, 1.0, -1)
    with pytest.raises(InvalidArgumentError, match="linspace: needs floating-point"):
        gf.linspace(gf.constant(0), gf.constant(1), 3)


def _np_in_top_k(targets, predictions, k):
    out = []
    for t, row in zip(targets, predictions):
        if not 0 <= t < row.size or not np.isfinite(row).all():
            out.append(False)
        else:
            out.append(int(np.sum(row > row[t])) < k)
    return np.array(out, bool)


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_in_top_k(device, k):
    rng = _rng(12)
    predictions = rng.integers(0, 4, (9, 5)).astype(np.float32)  # many ties, straddling the k-th place
    predictions[3, 2] = np.nan
    predictions[4, 0] = np.inf
    targets = rng.integers(0, 5, 9).astype(np.int32)
    targets[5], targets[6] = -1, 5  # outside the classes: False
    got = gf.math.in_top_k(gf.constant(targets), gf.constant(predictions), k).numpy()
    np.testing.assert_array_equal(got, _np_in_top_k(targets, predictions, k))
    np.testing.assert_array_equal(gf.nn.in_top_k(gf.constant(targets.astype(np.int64)), gf.constant(predictions),
                                                 k).numpy(), got)


def test_in_top_k_rejects_bad_shapes_and_dtypes():
    with pytest.raises(InvalidArgumentError, match=r"in_top_k: .*predictions int32\[2, 3\]"):
        gf.math.in_top_k(gf.constant([0, 1]), gf.constant(np.zeros((2, 3), np.int32)), 1)
    with pytest.raises(InvalidArgumentError, match=r"targets int32\[3\]"):
        gf.math.in_top_k(gf.constant([0, 1, 2]), gf.zeros((2, 3)), 1)


@pytest.mark.parametrize("op", [gf.math.divide_no_nan, gf.math.xlogy, gf.math.xdivy])
def test_integer_inputs_are_refused_by_name(op):
    with pytest.raises(InvalidArgumentError, match=rf"{op.__name__}: needs floating-point inputs, got int32\[2\]"):
        op(gf.constant([1, 2]), gf.constant([3, 4]))


def test_composites_trace_into_a_function(device):
    """They are plain ops: a gf.function traces them and gives the eager values."""
    x, y = gf.constant(_special((4, 3), 13)), gf.constant(_special((3,), 15))

    def body(a, b):
        return (gf.math.divide_no_nan(a, b), gf.math.xlogy(gf.abs(a), gf.abs(b)), gf.clip_by_norm(a, 1.0),
                gf.linspace(0.0, 1.0, 4), gf.math.in_top_k(gf.constant([0, 1, 2, 0]), a, 2))
    for eager, traced in zip(body(x, y), gf.function(body)(x, y)):
        np.testing.assert_array_equal(eager.numpy(), traced.numpy())
