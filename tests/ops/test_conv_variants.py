"""gf.nn.conv2d_transpose, depthwise_conv2d and separable_conv2d: forward vs direct-loop references written from
TF's definitions, float64 gradients by finite differences, sim parity, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from tests.harness import check_grad, check_op, check_parity, rand
from tests.ops.test_conv import ref_conv2d, ref_pads


def ref_conv2d_transpose(x, k, out_hw, strides, padding, dilations):
    """Scatter: input pixel (i, j) adds x[i, j] @ k[a, b].T at output (i * s + a * d - pad) for every tap (a, b),
    the pads being those of the conv2d from the output's size to the input's."""
    n, h, w, c = x.shape
    kh, kw, f, _ = k.shape
    (sh, sw), (dh, dw) = strides, dilations
    top, _ = ref_pads(out_hw[0], kh, sh, dh, padding)
    left, _ = ref_pads(out_hw[1], kw, sw, dw, padding)
    out = np.zeros((n,) + tuple(out_hw) + (f,))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    r, s = i * sh + a * dh - top, j * sw + b * dw - left
                    if 0 <= r < out_hw[0] and 0 <= s < out_hw[1]:
                        out[:, r, s, :] += x[:, i, j, :] @ k[a, b].T
    return out


def ref_depthwise(x, k, strides, padding, dilations):
    kh, kw, c, m = k.shape
    out = [ref_conv2d(x[..., ci:ci + 1], k[:, :, ci:ci + 1, :], strides, padding, dilations) for ci in range(c)]
    return np.concatenate(out, axis=-1)  # channel ci * m + j


# (input shape, kernel (kh, kw, F, C), output height and width, strides, padding, dilations)
TRANSPOSE = [
    ((1, 3, 3, 1), (3, 3, 1, 1), (5, 5), (1, 1), "VALID", (1, 1)),
    ((2, 4, 5, 3), (3, 3, 2, 3), (8, 10), (2, 2), "SAME", (1, 1)),
    ((2, 4, 5, 3), (3, 3, 2, 3), (9, 11), (2, 2), "VALID", (1, 1)),
    ((1, 3, 4, 2), (2, 3, 4, 2), (7, 8), (2, 1), "VALID", (2, 2)),
    ((2, 5, 3, 2), (3, 2, 3, 2), (15, 9), (3, 3), "SAME", (1, 1)),
    ((1, 4, 4, 2), (4, 4, 1, 2), (8, 8), (2, 2), "SAME", (1, 1)),
]


def transpose(out_hw, strides, padding, dilations):
    def fn(x, k):
        n = x.shape[0]
        return gf.nn.conv2d_transpose(x, k, [n, *out_hw, k.shape[2]], strides=strides, padding=padding,
                                      dilations=dilations)
    return fn


@pytest.mark.parametrize("case", TRANSPOSE)
def test_conv2d_transpose_forward(device, case):
    xs, ks, out_hw, strides, padding, dilations = case
    x, k = rand(xs, seed=1), rand(ks, seed=2)
    check_op(transpose(out_hw, strides, padding, dilations), [x, k],
             lambda x, k: ref_conv2d_transpose(x, k, out_hw, strides, padding, dilations), device, rtol=1e-4,
             atol=1e-4)


@pytest.mark.parametrize("case", TRANSPOSE[1:4])
def test_conv2d_transpose_grad_float64(case):
    xs, ks, out_hw, strides, padding, dilations = case
    check_grad(transpose(out_hw, strides, padding, dilations), [rand((1,) + xs[1:], seed=3), rand(ks, seed=4)])


def test_conv2d_transpose_is_the_input_gradient_of_conv2d():
    x, k = rand((2, 8, 10, 2), "float64", seed=5), rand((3, 3, 2, 3), "float64", seed=6)
    g = rand((2, 4, 5, 3), "float64", seed=7)
    with gf.GradientTape() as tape:
        xt = gf.constant(x)
        tape.watch(xt)
        y = gf.nn.conv2d(xt, gf.constant(k), strides=2, padding="SAME")
    expected = tape.gradient(y, xt, output_gradients=gf.constant(g)).numpy()
    got = gf.nn.conv2d_transpose(gf.constant(g), gf.constant(k), [2, 8, 10, 2], strides=2, padding="SAME").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


DEPTHWISE = [
    ((2, 6, 5, 3), (3, 3, 3, 1), (1, 1), "SAME", (1, 1)),
    ((1, 7, 7, 2), (3, 2, 2, 3), (2, 2), "VALID", (1, 1)),
    ((2, 8, 6, 4), (3, 3, 4, 2), (1, 1), "SAME", (2, 2)),
]


@pytest.mark.parametrize("case", DEPTHWISE)
def test_depthwise_conv2d_forward_grad_and_parity(device, case):
    xs, ks, strides, padding, dilations = case
    fn = lambda x, k: gf.nn.depthwise_conv2d(x, k, [1, *strides, 1], padding, dilations=dilations)  # noqa: E731
    x, k = rand(xs, seed=8), rand(ks, seed=9)
    check_op(fn, [x, k], lambda x, k: ref_depthwise(x, k, strides, padding, dilations), device, rtol=1e-4, atol=1e-4)
    if device == "cpu":
        check_grad(fn, [rand((1,) + xs[1:], seed=10), rand(ks, seed=11)])


def test_separable_conv2d_is_depthwise_then_pointwise(device):
    x, dk, pk = rand((2, 6, 7, 3), seed=12), rand((3, 3, 3, 2), seed=13), rand((1, 1, 6, 5), seed=14)
    fn = lambda x, d, p: gf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "SAME")  # noqa: E731
    check_op(fn, [x, dk, pk], lambda x, d, p: ref_depthwise(x, d, (1, 1), "SAME", (1, 1)) @ p[0, 0], device,
             rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fn, inputs", [
    (transpose((8, 10), (2, 2), "SAME", (1, 1)), [(2, 4, 5, 3), (3, 3, 2, 3)]),
    (lambda x, k: gf.nn.depthwise_conv2d(x, k, [1, 2, 2, 1], "SAME"), [(2, 7, 6, 3), (3, 3, 3, 2)]),
])
def test_sim_parity_forward_and_backward(fn, inputs):
    check_parity(fn, [rand(s, seed=15 + i) for i, s in enumerate(inputs)], "sim")


@pytest.mark.parametrize("call, match", [
    (lambda: gf.nn.conv2d_transpose(gf.zeros((1, 4, 4, 3)), gf.zeros((3, 3, 2, 3)), [1, 9, 9, 2], 2, "SAME"),
     r"output_shape \[1, 9, 9, 2\] does not fit the input \[1, 4, 4, 3\].*gives \[5, 5\], not \[4, 4\]"),
    (lambda: gf.nn.conv2d_transpose(gf.zeros((1, 4, 4, 3)), gf.zeros((3, 3, 2, 4)), [1, 8, 8, 2], 2, "SAME"),
     r"input \[1, 4, 4, 3\].*filters \[3, 3, 2, 4\].*do not agree"),
    (lambda: gf.nn.conv2d_transpose(gf.zeros((1, 4, 4, 3)), gf.zeros((3, 3, 2, 3)), [1, 8, 8, 5], 2, "SAME"),
     r"output_shape \[1, 8, 8, 5\].*do not agree"),
    (lambda: gf.nn.depthwise_conv2d(gf.zeros((1, 4, 4, 3)), gf.zeros((3, 3, 2, 1)), [1, 1, 1, 1], "SAME"),
     r"depthwise_conv2d: filter must be \(height, width, in_channels=3, channel_multiplier\)"),
])
def test_errors_name_the_shapes(call, match):
    with pytest.raises(InvalidArgumentError, match=match):
        call()
