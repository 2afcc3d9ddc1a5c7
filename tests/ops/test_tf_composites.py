"""TF's composite functions: math (divide_no_nan, xlogy, xdivy, squared_difference, is_inf, log_sigmoid,
logical_xor, reduce_euclidean_norm, in_top_k, confusion_matrix), nn (selu, softsign, l2_normalize, moments,
batch_normalization, weighted_cross_entropy_with_logits, embedding_lookup), clipping (clip_by_norm, global_norm,
clip_by_global_norm), arrays (linspace, sequence_mask, meshgrid, repeat, ensure_shape) and the context functions
(executing_eagerly, init_scope, name_scope):
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
    with pytest.raises(InvalidArgumentError, match="linspace: needs a floating-point"):
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
    with pytest.raises(InvalidArgumentError, match=rf"{op.__name__}: needs a floating-point input, got int32\[2\]"):
        op(gf.constant([1, 2]), gf.constant([3, 4]))


def test_composites_trace_into_a_function(device):
    """They are plain ops: a gf.function traces them and gives the eager values."""
    x, y = gf.constant(_special((4, 3), 13)), gf.constant(_special((3,), 15))

    def body(a, b):
        return (gf.math.divide_no_nan(a, b), gf.math.xlogy(gf.abs(a), gf.abs(b)), gf.clip_by_norm(a, 1.0),
                gf.linspace(0.0, 1.0, 4), gf.math.in_top_k(gf.constant([0, 1, 2, 0]), a, 2))
    for eager, traced in zip(body(x, y), gf.function(body)(x, y)):
        np.testing.assert_array_equal(eager.numpy(), traced.numpy())


def test_logical_xor_and_reduce_euclidean_norm(device):
    a, b = _rng(16).random((4, 5)) < 0.5, _rng(17).random((5,)) < 0.5
    np.testing.assert_array_equal(gf.math.logical_xor(gf.constant(a), gf.constant(b)).numpy(), a ^ b)
    x = _rng(18).normal(size=(3, 4, 5))
    for axis in (None, 1, (0, 2)):
        np.testing.assert_allclose(gf.math.reduce_euclidean_norm(gf.constant(x), axis).numpy(),
                                   np.sqrt(np.sum(x * x, axis=axis)), rtol=1e-12)
    ints = gf.constant([[1, 2, 3], [1, 1, 1]])  # TF's own example: the integer part, in int32
    assert gf.math.reduce_euclidean_norm(ints).numpy() == 4
    assert gf.math.reduce_euclidean_norm(ints, 1).numpy().tolist() == [3, 1]


@pytest.mark.parametrize("keepdims", [False, True])
def test_moments_and_batch_normalization(device, keepdims):
    x = _rng(19).normal(size=(6, 4, 3)) * 2 + 1
    mean, variance = gf.nn.moments(gf.constant(x), axes=[0, 1], keepdims=keepdims)
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=(0, 1), keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), x.var(axis=(0, 1), keepdims=keepdims), rtol=1e-12)
    offset, scale = _rng(20).normal(size=3), _rng(21).normal(size=3)
    m, v = x.mean(axis=(0, 1)), x.var(axis=(0, 1))
    for o, sc in ((offset, scale), (None, scale), (offset, None), (None, None)):
        got = gf.nn.batch_normalization(gf.constant(x), gf.constant(m), gf.constant(v),
                                        None if o is None else gf.constant(o), None if sc is None else gf.constant(sc),
                                        1e-3).numpy()
        expected = (x - m) / np.sqrt(v + 1e-3) * (1 if sc is None else sc) + (0 if o is None else o)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_weighted_cross_entropy_with_logits(device):
    logits = np.array([-1e4, -30.0, -1.0, 0.0, 2.0, 30.0, 1e4])  # no overflow at either end
    labels = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.7, 1.0])
    q = 2.5
    expected = (1 - labels) * logits + (1 + (q - 1) * labels) * (np.log1p(np.exp(-np.abs(logits)))
                                                                 + np.maximum(-logits, 0))
    got = gf.nn.weighted_cross_entropy_with_logits(gf.constant(labels), gf.constant(logits), q).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    plain = gf.nn.sigmoid_cross_entropy_with_logits(labels=gf.constant(labels), logits=gf.constant(logits)).numpy()
    np.testing.assert_allclose(gf.nn.weighted_cross_entropy_with_logits(gf.constant(labels), gf.constant(logits),
                                                                        1.0).numpy(), plain, rtol=1e-12)


def test_embedding_lookup(device):
    table = _rng(22).normal(size=(7, 4)).astype(np.float32) * 3
    table[2] = 0.0
    ids = np.array([[0, 2], [6, 6], [3, 1]])
    np.testing.assert_array_equal(gf.nn.embedding_lookup(gf.constant(table), gf.constant(ids)).numpy(), table[ids])
    np.testing.assert_array_equal(gf.nn.embedding_lookup([gf.constant(table)], gf.constant(ids)).numpy(), table[ids])
    rows = table[ids]
    norms = np.sqrt(np.sum(rows * rows, axis=-1, keepdims=True))
    np.testing.assert_allclose(gf.nn.embedding_lookup(gf.constant(table), gf.constant(ids), max_norm=1.5).numpy(),
                               rows * 1.5 / np.maximum(norms, 1.5), rtol=1e-6)
    with pytest.raises(InvalidArgumentError, match="embedding_lookup: params sharded over 2 tensors"):
        gf.nn.embedding_lookup([gf.constant(table), gf.constant(table)], gf.constant(ids))


def _np_confusion(labels, predictions, n, weights=None):
    out = np.zeros((n, n), np.float64 if weights is not None else np.int64)
    for k, (a, b) in enumerate(zip(labels, predictions)):
        out[a, b] += 1 if weights is None else weights[k]
    return out


def test_confusion_matrix(device):
    assert gf.math.confusion_matrix([1, 2, 4], [2, 2, 4]).numpy().tolist() == _np_confusion([1, 2, 4], [2, 2, 4],
                                                                                             5).tolist()
    labels, predictions = _rng(23).integers(0, 6, 40), _rng(24).integers(0, 6, 40)
    weights = _rng(25).random(40)
    got = gf.math.confusion_matrix(gf.constant(labels), gf.constant(predictions), num_classes=8,
                                   weights=gf.constant(weights), dtype=gf.float64)
    assert got.dtype == gf.float64
    np.testing.assert_allclose(got.numpy(), _np_confusion(labels, predictions, 8, weights), rtol=1e-12)
    assert gf.math.confusion_matrix(gf.constant(labels), gf.constant(predictions)).dtype == gf.int32


def test_confusion_matrix_errors_eager_and_traced():
    with pytest.raises(InvalidArgumentError, match=r"labels \(-2 to 1\) .* must lie in \[0, 2\)"):
        gf.math.confusion_matrix([1, -2], [0, 1])
    with pytest.raises(InvalidArgumentError, match=r"must lie in \[0, 3\) \(num_classes 3\)"):
        gf.math.confusion_matrix([1, 2], [0, 3], num_classes=3)
    with pytest.raises(InvalidArgumentError, match="must be 1-D and of one length"):
        gf.math.confusion_matrix([1, 2], [0, 1, 1])
    traced = gf.function(lambda a, b: gf.math.confusion_matrix(a, b, num_classes=3))
    assert traced(gf.constant([0, 2]), gf.constant([1, 2])).numpy().tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]
    for bad in ([0, 5], [0, -1]):  # traced: no host read, a pair outside the classes still fails the call
        with pytest.raises(InvalidArgumentError, match="confusion_matrix: .*out of range"):
            traced(gf.constant(bad), gf.constant([1, 2]))


def test_sequence_mask(device):
    lengths = np.array([[1, 3], [0, 5]])
    expected = np.arange(5) < lengths[..., None]
    np.testing.assert_array_equal(gf.sequence_mask(gf.constant(lengths)).numpy(), expected)
    np.testing.assert_array_equal(gf.sequence_mask(gf.constant(lengths), 7, dtype=gf.float32).numpy(),
                                  (np.arange(7) < lengths[..., None]).astype(np.float32))
    assert gf.sequence_mask(gf.constant(np.zeros((0,), np.int32))).shape == (0, 0)
    with pytest.raises(InvalidArgumentError, match="sequence_mask: needs an integer lengths input"):
        gf.sequence_mask(gf.constant([1.0]))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(device, indexing):
    a, b, c = np.arange(3.0), np.arange(4.0) * 2, np.arange(2.0) - 5
    for args in ((a,), (a, b), (a, b, c)):
        got = gf.meshgrid(*[gf.constant(t) for t in args], indexing=indexing)
        for g, e in zip(got, np.meshgrid(*args, indexing=indexing)):
            np.testing.assert_array_equal(g.numpy(), e)
    with pytest.raises(ValueError, match="indexing must be 'xy' or 'ij'"):
        gf.meshgrid(gf.constant(a), indexing="yx")


def test_repeat(device):
    x = _rng(26).normal(size=(3, 4))
    np.testing.assert_array_equal(gf.repeat(gf.constant(x), 2).numpy(), np.repeat(x, 2))
    np.testing.assert_array_equal(gf.repeat(gf.constant(x), [1, 0, 3], axis=0).numpy(), np.repeat(x, [1, 0, 3], 0))
    np.testing.assert_array_equal(gf.repeat(gf.constant(x), gf.constant([2]), axis=-1).numpy(), np.repeat(x, 2, -1))
    with pytest.raises(InvalidArgumentError, match=r"repeat: repeats must be one count >= 0 or 3 of them"):
        gf.repeat(gf.constant(x), [1, 2], axis=0)
    with pytest.raises(InvalidArgumentError, match="repeat: repeats must be integers"):
        gf.repeat(gf.constant(x), 1.5)


def test_ensure_shape():
    x = gf.ones((2, 3))
    assert gf.ensure_shape(x, [None, 3]) is x and gf.ensure_shape(x, (2, 3)) is x
    with pytest.raises(InvalidArgumentError, match=r"ensure_shape: the shape of the tensor, \[2, 3\], .* \[None, 4\]"):
        gf.ensure_shape(x, [None, 4])
    with pytest.raises(InvalidArgumentError, match="expected shape \\[2\\]"):
        gf.ensure_shape(x, [2])


def test_executing_eagerly_and_init_scope():
    seen = []

    @gf.function
    def step(x):
        seen.append(gf.executing_eagerly())
        with gf.init_scope():
            seen.append(gf.executing_eagerly())
        return x * 2.0
    assert gf.executing_eagerly()
    with gf.GradientTape():
        assert gf.executing_eagerly()  # a tape is still eager
    step(gf.ones((2,)))
    assert seen == [False, True]
    gf.config.run_functions_eagerly(True)
    try:
        step(gf.ones((3,)))
    finally:
        gf.config.run_functions_eagerly(False)
    assert seen[2:] == [True, True]


def test_name_scope():
    with gf.name_scope("block") as outer:
        with gf.name_scope("dense_1") as inner:
            assert (outer, inner) == ("block/", "block/dense_1/")
            with gf.name_scope("other/") as absolute:
                assert absolute == "other/"
            with gf.name_scope("") as top:
                assert top == ""
        with gf.name_scope("x") as again:
            assert again == "block/x/"
    with gf.name_scope("y") as fresh:
        assert fresh == "y/"
    for bad in ("_x", "-x", "a b", 3):
        with pytest.raises(ValueError, match="is not a valid scope name"):
            gf.name_scope(bad)


def test_matvec(device):
    a, v = _rng(30).normal(size=(2, 3, 4)), _rng(31).normal(size=(4,))
    np.testing.assert_allclose(gf.linalg.matvec(gf.constant(a), gf.constant(v)).numpy(), a @ v, rtol=1e-12)
    w = _rng(32).normal(size=(2, 3))
    np.testing.assert_allclose(gf.linalg.matvec(gf.constant(a), gf.constant(w), transpose_a=True).numpy(),
                               np.einsum("bij,bi->bj", a, w), rtol=1e-12)
    with pytest.raises(InvalidArgumentError, match="matvec: needs a matrix"):
        gf.linalg.matvec(gf.constant(v), gf.constant(v))


def test_mish_and_dataset_cardinality():
    x = _rng(33).normal(size=(6,)).astype(np.float32) * 3
    np.testing.assert_allclose(gf.keras.activations.get("mish")(gf.constant(x)).numpy(),
                               x * np.tanh(np.logaddexp(0, x)), rtol=1e-5)
    assert int(gf.data.experimental.cardinality(gf.data.Dataset.range(7).batch(2))) == 4
    assert int(gf.data.experimental.cardinality(gf.data.Dataset.range(3).repeat())) == \
        gf.data.experimental.INFINITE_CARDINALITY
