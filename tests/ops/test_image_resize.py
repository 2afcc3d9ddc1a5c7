"""gf.image.resize: values worked out by hand from TF 2's definitions (half-pixel centers, the antialiasing
triangle filter), forward against float64 references written from those definitions on every device
(up, down, odd, size 1, empty batch and channels, 3-D and 4-D), float64 gradients of both methods,
sim/cuda parity, dtypes, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import image_ops
from tests.harness import check_grad, check_op, check_parity, check_precision, rand

# (input shape, size): up, down, both at once, odd, to and from 1, the same size, empty batch / channels
CASES = [((2, 4, 4, 3), (8, 8)), ((1, 9, 7, 2), (4, 3)), ((2, 5, 6, 1), (3, 11)), ((1, 1, 1, 3), (3, 2)),
         ((1, 6, 5, 2), (1, 1)), ((1, 5, 4, 2), (5, 4)), ((0, 3, 4, 2), (5, 2)), ((2, 3, 4, 0), (6, 2)),
         ((7, 5, 3), (2, 9))]


def bilinear_ref(x, size):
    """TF's ResizeBilinear (half_pixel_centers) pixel by pixel, in float64."""
    def axis(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        lower = np.maximum(np.floor(src), 0).astype(int)
        upper = np.minimum(np.ceil(src), n_in - 1).astype(int)
        return lower, upper, src - np.floor(src)
    x = x.astype(np.float64)
    top, bottom, ly = axis(x.shape[-3], size[0])
    left, right, lx = axis(x.shape[-2], size[1])
    rows_t, rows_b = x[..., top, :, :], x[..., bottom, :, :]
    lx = lx[:, None]
    t = rows_t[..., left, :] + (rows_t[..., right, :] - rows_t[..., left, :]) * lx
    b = rows_b[..., left, :] + (rows_b[..., right, :] - rows_b[..., left, :]) * lx
    return t + (b - t) * ly[:, None, None]


def antialias_ref(x, size):
    """ScaleAndTranslate's triangle filter as dense weight matrices: every source pixel within
    max(in/out, 1) source pixels of the sample point counts, weights normalised per output."""
    def weights(n_in, n_out):
        sample = (np.arange(n_out) + 0.5) * n_in / n_out
        width = max(n_in / n_out, 1.0)
        w = np.maximum(0.0, 1.0 - np.abs(np.arange(n_in)[None, :] + 0.5 - sample[:, None]) / width)
        return w / w.sum(1, keepdims=True)
    wy, wx = weights(x.shape[-3], size[0]), weights(x.shape[-2], size[1])
    return np.einsum("yh,...hwc,xw->...yxc", wy, x.astype(np.float64), wx)


def bilinear_matrix(n_in, n_out):
    """ResizeBilinear along one axis as a dense (n_out, n_in) matrix, from the same definition as bilinear_ref."""
    src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    lower = np.maximum(np.floor(src), 0).astype(int)
    upper = np.minimum(np.ceil(src), n_in - 1).astype(int)
    lerp = src - np.floor(src)
    w = np.zeros((n_out, n_in))
    np.add.at(w, (np.arange(n_out), lower), 1 - lerp)
    np.add.at(w, (np.arange(n_out), upper), lerp)
    return w


def nearest_ref(x, size):
    rows = np.minimum(np.floor((np.arange(size[0]) + 0.5) * x.shape[-3] / size[0]), x.shape[-3] - 1).astype(int)
    cols = np.minimum(np.floor((np.arange(size[1]) + 0.5) * x.shape[-2] / size[1]), x.shape[-2] - 1).astype(int)
    return x[..., rows, :, :][..., cols, :]


def test_hand_worked_values(device):
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    out = check_op(lambda t: gf.image.resize(t, [2, 2]), [x], lambda a: [[[[2.5], [4.5]], [[10.5], [12.5]]]], device,
                   dtype="float32")
    # Antialiased 4 -> 2 along each axis: weights 3/7, 3/7, 1/7 (and mirrored), so [0, 1, 2, 3] -> [5/7, 16/7].
    check_op(lambda t: gf.image.resize(t, [2, 2], antialias=True), [x],
             lambda a: np.array([[25, 36], [69, 80]]).reshape(1, 2, 2, 1) / 7, device, rtol=1e-6)
    # Upsampling [0, 1] by 2: half-pixel centers sample at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    line = np.array([0.0, 1.0], np.float32).reshape(1, 2, 1)
    for antialias in (False, True):  # the triangle filter is bilinear when upsampling
        check_op(lambda t: gf.image.resize(t, [1, 4], antialias=antialias), [line],
                 lambda a: np.array([0, 0.25, 0.75, 1.0]).reshape(1, 4, 1), device)
    check_op(lambda t: gf.image.resize(t, [3, 5], method="nearest"), [x],
             lambda a: np.array([[0, 1, 2, 2, 3], [8, 9, 10, 10, 11], [12, 13, 14, 14, 15]]).reshape(1, 3, 5, 1),
             device, dtype="float32")
    assert out.shape == (1, 2, 2, 1)


@pytest.mark.parametrize("shape,size", CASES, ids=str)
def test_resize_forward(device, shape, size):
    x = rand(shape, seed=len(shape) + sum(size))
    check_op(lambda t: gf.image.resize(t, size), [x], lambda a: bilinear_ref(a, size), device, rtol=1e-5, atol=1e-5)
    check_op(lambda t: gf.image.resize(t, size, antialias=True), [x], lambda a: antialias_ref(a, size), device,
             rtol=1e-5, atol=1e-5)
    check_op(lambda t: gf.image.resize(t, size, method=gf.image.ResizeMethod.NEAREST_NEIGHBOR), [x],
             lambda a: nearest_ref(a, size), device)


def test_large_downsample_filters_every_pixel(device):
    """40 -> 3 with antialias: each output averages ~13 source pixels (taps beyond the bilinear two)."""
    x = rand((2, 40, 37, 3), seed=3)
    check_op(lambda t: gf.image.resize(t, [3, 4], antialias=True), [x], lambda a: antialias_ref(a, (3, 4)), device,
             rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int32", "int64"])
def test_dtypes(device, dtype):
    x = rand((2, 5, 4, 3), dtype, low=0, high=200, seed=4)
    # bilinear computes in float32 and returns float32, whatever the input (TF's resize)
    check_op(lambda t: gf.image.resize(t, [7, 3]), [x], lambda a: bilinear_ref(a.astype(np.float32), (7, 3)), device,
             rtol=1e-5, atol=1e-4, dtype="float32")
    # nearest only moves values: the input dtype, exactly
    check_op(lambda t: gf.image.resize(t, [7, 3], method="nearest"), [x], lambda a: nearest_ref(a, (7, 3)), device,
             dtype=dtype, rtol=1e-7, atol=0)


def test_nearest_moves_bools_too(device):
    x = rand((1, 3, 3, 1), "bool", seed=5)
    check_op(lambda t: gf.image.resize(t, [5, 2], method="nearest"), [x], lambda a: nearest_ref(a, (5, 2)), device,
             dtype="bool")


def test_preserve_aspect_ratio(device):
    with gf.device(device):
        x = gf.constant(rand((2, 10, 20, 3), seed=6))
        assert gf.image.resize(x, [8, 8], preserve_aspect_ratio=True).shape == (2, 4, 8, 3)
        assert gf.image.resize(x, [100, 30], preserve_aspect_ratio=True, method="nearest").shape == (2, 15, 30, 3)
        # 3 * 5/3 = 5 and 5 * 5/3 = 8.33: the scale is the smaller ratio, sizes rounded half to even
        assert gf.image.resize(x[:, :3, :5], [5, 9], preserve_aspect_ratio=True).shape == (2, 5, 8, 3)


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("shape,size", [((2, 4, 5, 2), (7, 3)), ((1, 9, 3, 1), (2, 6)), ((1, 2, 2, 1), (9, 1))],
                         ids=str)
def test_linear_gradient(shape, size, antialias):
    """float64 finite differences through both passes (the resampling primitive and its transposed table)."""
    x = rand(shape, "float64", seed=7)
    check_grad(lambda t: image_ops._linear(t, shape[1], shape[2], size[0], size[1], antialias), [x])


def test_gradients_match_autograd():
    """The tape's gradient of a bilinear resize against autograd differentiating the dense-matrix form."""
    import autograd.numpy as anp
    from tests.ops.test_grad_oracle import compare
    x = rand((2, 5, 3, 2), "float64", seed=13)
    wy, wx = bilinear_matrix(5, 8), bilinear_matrix(3, 2)
    compare(lambda t: image_ops._linear(t, 5, 3, 8, 2, False),
            lambda a: anp.einsum("yh,bhwc,xw->byxc", wy, a, wx), [x])


def test_nearest_gradient_sums_into_the_source_pixel():
    x = rand((1, 3, 4, 2), "float64", seed=8)
    check_grad(lambda t: image_ops._nearest(t, 3, 4, 7, 2), [x])


def test_second_derivative_exists():
    """The gradient is the transposed resample, itself differentiable: the grad of a grad is the forward."""
    x = gf.constant(rand((1, 4, 4, 1), "float64", seed=9))
    with gf.GradientTape() as outer:
        outer.watch(x)
        with gf.GradientTape() as inner:
            inner.watch(x)
            y = gf.reduce_sum(image_ops._linear(x, 4, 4, 3, 6, True) ** 2)
        g = inner.gradient(y, x)
        gg = gf.reduce_sum(g * g)
    assert outer.gradient(gg, x).shape == (1, 4, 4, 1)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_parity(device, dtype):
    x = rand((2, 6, 5, 3), dtype, seed=10)
    for kwargs in ({}, {"antialias": True}, {"method": "nearest"}):
        check_parity(lambda t: gf.image.resize(t, [4, 9], **kwargs), [x], device, rtol=1e-5, atol=1e-5)


def test_resize_traces_and_matches_eager(device):
    with gf.device(device):
        x = gf.constant(rand((2, 5, 5, 3), seed=11))
        f = gf.function(lambda t: gf.image.resize(t, [3, 7], antialias=True))
        np.testing.assert_allclose(f(x).numpy(), gf.image.resize(x, [3, 7], antialias=True).numpy(), rtol=1e-6)


def test_errors():
    err = gf.errors.InvalidArgumentError
    x = gf.constant(rand((2, 4, 4, 3)))
    with pytest.raises(err, match=r"resize: the image must be 3-D or 4-D .*got float32\[4, 4\]"):
        gf.image.resize(x[0, :, :, 0], [2, 2])
    with pytest.raises(err, match=r"resize: size \[-1, 2\] must be positive \(resizing float32\[2, 4, 4, 3\]\)"):
        gf.image.resize(x, [-1, 2])
    with pytest.raises(err, match=r"resize: size \[0, 1\] must be positive .*after preserve_aspect_ratio"):
        gf.image.resize(gf.constant(rand((1, 40, 1))), [10, 1], preserve_aspect_ratio=True)  # height 1/40 -> 0
    with pytest.raises(err, match=r"resize: size must be 2 integers \[new_height, new_width\], got \[3\]"):
        gf.image.resize(x, [3])
    with pytest.raises(err, match=r"resize: the image needs a known, non-zero height and width, got "
                                  r"float32\[2, 0, 4, 3\]"):
        gf.image.resize(x[:, :0], [2, 2])
    with pytest.raises(gf.errors.UnimplementedError, match=r"resize: method 'bicubic' is not implemented"):
        gf.image.resize(x, [2, 2], method="bicubic")
    with pytest.raises(err, match=r"resize: unknown method 'cubic'"):
        gf.image.resize(x, [2, 2], method="cubic")
    with pytest.raises(err, match=r"resize: bilinear needs a numeric image, got bool\[2, 2, 1\]"):
        gf.image.resize(gf.constant(np.ones((2, 2, 1), bool)), [3, 3])


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_resampling_primitive_keeps_other_float_dtypes(device, dtype):
    """resize returns float32 (TF), but its primitive runs in any float dtype: float64 for the gradient checks."""
    x = rand((2, 5, 4, 3), dtype, seed=12)
    for antialias in (False, True):
        check_parity(lambda t: image_ops._linear(t, 5, 4, 3, 7, antialias), [x], device)


def test_float32_precision(device):
    """Within float32 roundings of float64: each output folds at most 2 x 2 taps (bilinear), or the ~2 * ratio
    taps per axis of the antialiasing filter. TF computes the sample positions in float32 too, so a weight is
    off by up to eps * (image size), times a difference of two pixels: 2 * 13 more ulps of the largest |x|."""
    x = rand((2, 9, 13, 3), seed=14)
    for size, antialias, taps in (((5, 20), False, 4), ((3, 4), True, 49)):
        reference = antialias_ref if antialias else bilinear_ref
        check_precision(lambda t: gf.image.resize(t, size, antialias=antialias), [x], lambda a: reference(a, size),
                        device, n=taps, ulps=4 + 2 * 13, scale=np.abs(x).max())
