"""im2col/col2im primitives and gf.nn.conv2d/conv1d: forward vs direct-loop references,
float64 gradients, sim parity forward and backward, errors."""
import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import conv_prims
from tests.harness import check_grad, check_op, check_parity, rand


def ref_pads(size, k, s, d, padding):
    if padding == "VALID":
        return 0, 0
    total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def ref_conv2d(x, k, strides, padding, dilations, groups=1):
    """Direct convolution: an explicit loop over output positions and taps (the independent reference)."""
    n, h, w, c = x.shape
    kh, kw, cg, f = k.shape
    (sh, sw), (dh, dw) = strides, dilations
    top, bottom = ref_pads(h, kh, sh, dh, padding)
    left, right = ref_pads(w, kw, sw, dw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oh = (h + top + bottom - (kh - 1) * dh - 1) // sh + 1
    ow = (w + left + right - (kw - 1) * dw - 1) // sw + 1
    fg = f // groups
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    patch = xp[:, i * sh + a * dh, j * sw + b * dw, :]  # (n, c)
                    for g in range(groups):
                        block = patch[:, g * cg:(g + 1) * cg] @ k[a, b, :, g * fg:(g + 1) * fg]
                        out[:, i, j, g * fg:(g + 1) * fg] += block
    return out


# (x shape, kernel shape, strides, padding, dilations): odd sizes, batch 1, stride/dilation/padding variants,
# a 1x1 kernel, groups = 2 (the kernel's input channels are half the input's) and one spanning several blocks.
CASES = [
    ((1, 5, 5, 1), (3, 3, 1, 1), (1, 1), "VALID", (1, 1)),
    ((2, 7, 6, 3), (3, 2, 3, 4), (2, 2), "SAME", (1, 1)),
    ((2, 7, 8, 2), (3, 3, 2, 3), (1, 2), "SAME", (2, 2)),
    ((1, 9, 7, 2), (2, 3, 2, 2), (3, 1), "VALID", (2, 1)),
    ((2, 4, 5, 3), (1, 1, 3, 5), (1, 1), "SAME", (1, 1)),
    ((2, 6, 5, 4), (3, 3, 2, 6), (2, 1), "SAME", (1, 1)),   # groups = 2
    ((1, 5, 5, 6), (2, 2, 2, 3), (1, 1), "VALID", (2, 2)),   # groups = 3
    ((3, 17, 19, 5), (3, 3, 5, 7), (2, 2), "SAME", (1, 1)),
]


def conv(strides, padding, dilations):
    return lambda x, k: gf.nn.conv2d(x, k, strides=strides, padding=padding, dilations=dilations)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_forward(device, case):
    xs, ks, strides, padding, dilations = case
    groups = xs[3] // ks[2]
    x, k = rand(xs, seed=1), rand(ks, seed=2)
    check_op(conv(strides, padding, dilations), [x, k],
             lambda x, k: ref_conv2d(x, k, strides, padding, dilations, groups), device, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[3], CASES[4], CASES[5]])
def test_conv2d_grad_float64(case):
    xs, ks, strides, padding, dilations = case
    small = (1,) + xs[1:]  # batch 1 keeps the finite differences quick
    check_grad(conv(strides, padding, dilations), [rand(small, seed=3), rand(ks, seed=4)])


@pytest.mark.parametrize("case", CASES[:6])
def test_conv2d_sim_parity(case):
    xs, ks, strides, padding, dilations = case
    check_parity(conv(strides, padding, dilations), [rand(xs, seed=5), rand(ks, seed=6)], "sim")


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_im2col_col2im_dtypes_sim_parity(dtype):
    x = rand((2, 5, 4, 3), dtype, seed=7)
    params = dict(kernel_size=(2, 3), strides=(2, 1), dilations=(1, 2), pads=(1, 0, 2, 1))
    check_parity(lambda a: conv_prims.im2col(a, **params), [x], "sim")
    cols = rand((2, 3, 3, 2, 3, 3), dtype, seed=8)
    check_parity(lambda c: conv_prims.col2im(c, input_hw=(5, 4), **params), [cols], "sim")


def test_im2col_and_col2im_are_adjoint():
    # <im2col(x), c> == <x, col2im(c)>: what makes each the other's gradient.
    params = dict(kernel_size=(3, 2), strides=(2, 3), dilations=(2, 1), pads=(2, 1, 0, 1))
    x = rand((2, 7, 8, 3), "float64", seed=9)
    cols = conv_prims.im2col(gf.constant(x), **params)
    c = rand(tuple(cols.shape), "float64", seed=10)
    back = conv_prims.col2im(gf.constant(c), input_hw=(7, 8), **params)
    np.testing.assert_allclose(np.sum(cols.numpy() * c), np.sum(x * back.numpy()), rtol=1e-12)


def test_col2im_grad_float64():
    params = dict(input_hw=(4, 3), kernel_size=(2, 2), strides=(1, 2), dilations=(1, 1), pads=(0, 1, 1, 0))
    check_grad(lambda c: conv_prims.col2im(c, **params), [rand((1, 4, 2, 2, 2, 2), seed=11)])


@pytest.mark.parametrize("stride,padding,dilation", [(1, "VALID", 1), (2, "SAME", 1), (1, "SAME", 2)])
def test_conv1d_forward_and_grad(device, stride, padding, dilation):
    x, k = rand((2, 9, 3), seed=12), rand((3, 3, 4), seed=13)
    fn = lambda x, k: gf.nn.conv1d(x, k, stride=stride, padding=padding, dilations=dilation)  # noqa: E731
    ref = lambda x, k: ref_conv2d(x[:, None], k[None], (1, stride), padding, (1, dilation))[:, 0]  # noqa: E731
    check_op(fn, [x, k], ref, device, rtol=1e-4, atol=1e-4)
    if device == "cpu":
        check_grad(fn, [rand((1, 7, 2), seed=14), rand((3, 2, 2), seed=15)])


def test_conv2d_same_pads_extra_on_bottom_right():
    # H = 4, k = 2, s = 1: one row of padding, after (bottom) as tf puts it.
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    out = gf.nn.conv2d(x, np.ones((2, 2, 1, 1), np.float32), strides=1, padding="SAME").numpy()[0, :, :, 0]
    assert out[-1, -1] == x[0, 3, 3, 0]
    assert out[0, 0] == x[0, :2, :2, 0].sum()


@pytest.mark.parametrize("xs,ks,kwargs,match", [
    ((2, 5, 5), (3, 3, 3, 4), {}, r"NHWC \(rank 4\).*\[2, 5, 5\]"),
    ((1, 5, 5, 3), (3, 3, 2, 4), {}, r"3 channels.*\[3, 3, 2, 4\]"),
    ((1, 2, 5, 3), (3, 3, 3, 4), {"padding": "VALID"}, r"larger than the padded input height.*padding='same'"),
    ((1, 5, 5, 3), (3, 3, 3, 4), {"data_format": "NCHW"}, r"channels last"),
    ((1, 5, 5, 3), (3, 3, 3, 4), {"padding": "FULL"}, r"'same' or 'valid'"),
])
def test_conv2d_errors(xs, ks, kwargs, match):
    with pytest.raises(InvalidArgumentError, match="conv2d: .*" + match):
        gf.nn.conv2d(np.zeros(xs, np.float32), np.zeros(ks, np.float32), **{"strides": 1, "padding": "SAME", **kwargs})


def test_empty_batch_and_channels(device):
    assert gf.nn.conv2d(gf.zeros((0, 5, 5, 3)), gf.ones((3, 3, 3, 2)), 1, "SAME").shape == (0, 5, 5, 2)
    assert gf.nn.conv2d(gf.zeros((2, 5, 5, 3)), gf.ones((3, 3, 3, 0)), 2, "VALID").shape == (2, 2, 2, 0)
