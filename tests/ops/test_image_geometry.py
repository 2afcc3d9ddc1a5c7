"""gf.image flips, crops and the projective transform: values against NumPy and a float64 per-pixel reference
of TF's ImageProjectiveTransformV3 (every fill mode and interpolation) on every device, random ops repeated
by seeds and redrawn inside gf.function, gradients, sim/cuda parity, and the errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import image_ops
from tests.harness import check_grad, check_op, check_parity, rand

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]


@pytest.mark.parametrize("shape", [(4, 5, 3), (2, 3, 4, 1), (0, 3, 2, 2), (1, 1, 7, 0)], ids=str)
def test_flips(device, shape):
    x = rand(shape, seed=1)
    w, h = len(shape) - 2, len(shape) - 3
    check_op(gf.image.flip_left_right, [x], lambda a: np.flip(a, w), device)
    check_op(gf.image.flip_up_down, [x], lambda a: np.flip(a, h), device)


def test_random_flips_choose_per_image_and_repeat_with_the_seed(device):
    x = rand((64, 3, 4, 2), seed=2)
    with gf.device(device):
        t = gf.constant(x)
        for op, axis in ((gf.image.random_flip_left_right, 2), (gf.image.random_flip_up_down, 1)):
            gf.random.set_seed(5)
            out = op(t, seed=3).numpy()
            flipped = [np.array_equal(o, np.flip(a, axis - 1)) for o, a in zip(out, x)]
            kept = [np.array_equal(o, a) for o, a in zip(out, x)]
            assert all(f or k for f, k in zip(flipped, kept))
            assert 16 < sum(flipped) < 48, "a fair coin per image"
            gf.random.set_seed(5)
            np.testing.assert_array_equal(op(t, seed=3).numpy(), out)
        one = gf.constant(x[0])  # a 3-D image: one coin
        outs = {gf.image.random_flip_left_right(one).numpy().tobytes() for _ in range(12)}
        assert outs == {x[0].tobytes(), np.flip(x[0], 1).tobytes()}


def test_random_flip_inside_a_function_draws_on_every_call(device):
    with gf.device(device):
        t = gf.constant(rand((32, 2, 3, 1), seed=3))
        f = gf.function(lambda a: gf.image.random_flip_left_right(a))
        first, second = f(t).numpy(), f(t).numpy()
        assert not np.array_equal(first, second)
        assert f.experimental_get_tracing_count() == 1


def test_central_crop(device):
    x = rand((2, 5, 8, 3), seed=4)
    # TF: offsets int((5 - 5 * 0.5) / 2) = 1 and int((8 - 4) / 2) = 2, sizes 5 - 2 and 8 - 4
    check_op(lambda t: gf.image.central_crop(t, 0.5), [x], lambda a: a[:, 1:4, 2:6], device)
    check_op(lambda t: gf.image.central_crop(t, 0.3), [x[0]], lambda a: a[1:4, 2:6], device)
    check_op(lambda t: gf.image.central_crop(t, 1.0), [x], lambda a: a, device)
    check_op(lambda t: gf.image.central_crop(t, 0.01), [x], lambda a: a[:, 2:3, 3:5], device)


def _find(block, x):
    """The offset at which `block` sits in `x` (exactly one)."""
    found = [o for o in np.ndindex(*[d - s + 1 for d, s in zip(x.shape, block.shape)])
             if np.array_equal(x[tuple(slice(i, i + s) for i, s in zip(o, block.shape))], block)]
    assert len(found) == 1, found
    return found[0]


def test_random_crop(device):
    x = rand((6, 7, 3), seed=5)
    with gf.device(device):
        t = gf.constant(x)
        gf.random.set_seed(1)
        offsets = [_find(gf.image.random_crop(t, [3, 4, 3], seed=2).numpy(), x) for _ in range(20)]
        assert len(set(offsets)) > 5 and all(o[2] == 0 for o in offsets)
        assert {o[0] for o in offsets} <= set(range(4)) and {o[1] for o in offsets} <= set(range(4))
        gf.random.set_seed(1)
        assert _find(gf.image.random_crop(t, [3, 4, 3], seed=2).numpy(), x) == offsets[0]
        assert gf.image.random_crop(t, [0, 7, 3]).shape == (0, 7, 3)
        np.testing.assert_array_equal(gf.image.random_crop(t, [6, 7, 3]).numpy(), x)
        f = gf.function(lambda a: gf.image.random_crop(a, [2, 2, 3]))
        assert len({_find(f(t).numpy(), x) for _ in range(10)}) > 2


def test_random_crop_gradient_lands_on_the_window():
    x = rand((5, 6, 2), "float64", seed=6)
    t = gf.constant(x)
    with gf.GradientTape() as tape:
        tape.watch(t)
        crop = gf.image.random_crop(t, [2, 3, 2])
        loss = gf.reduce_sum(crop * crop)
    grad = tape.gradient(loss, t).numpy()
    o = _find(crop.numpy(), x)
    expected = np.zeros_like(x)
    expected[o[0]:o[0] + 2, o[1]:o[1] + 3] = 2 * crop.numpy()
    np.testing.assert_allclose(grad, expected)


# ---------------------------------------------------------------- the projective transform
def _map(c, n, mode):
    if mode == "constant":
        return c
    if mode == "reflect":
        m = c % (2 * n)
        c = m if m < n else 2 * n - 1 - m
    elif mode == "wrap":
        c = c % n
    return min(max(c, 0.0), n - 1.0)


def transform_ref(images, transforms, out_hw, interpolation, fill_mode, fill_value=0.0):
    """ImageProjectiveTransformV3 pixel by pixel in float64 (wrap as a true modulo)."""
    n, h, w, c = images.shape
    out = np.empty((n, out_hw[0], out_hw[1], c))

    def read(b, y, x):
        return images[b, int(y), int(x)] if 0 <= y < h and 0 <= x < w else np.full(c, fill_value)
    for b in range(n):
        a = transforms[0 if len(transforms) == 1 else b]
        for oy in range(out_hw[0]):
            for ox in range(out_hw[1]):
                k = a[6] * ox + a[7] * oy + 1
                if k == 0:
                    out[b, oy, ox] = fill_value
                    continue
                x = _map((a[0] * ox + a[1] * oy + a[2]) / k, w, fill_mode)
                y = _map((a[3] * ox + a[4] * oy + a[5]) / k, h, fill_mode)
                if interpolation == "nearest":
                    rx, ry = math.floor(abs(x) + 0.5) * np.sign(x), math.floor(abs(y) + 0.5) * np.sign(y)
                    out[b, oy, ox] = read(b, ry, rx)
                else:
                    y0, x0 = math.floor(y), math.floor(x)
                    top = (x0 + 1 - x) * read(b, y0, x0) + (x - x0) * read(b, y0, x0 + 1)
                    bottom = (x0 + 1 - x) * read(b, y0 + 1, x0) + (x - x0) * read(b, y0 + 1, x0 + 1)
                    out[b, oy, ox] = (y0 + 1 - y) * top + (y - y0) * bottom
    return out


def _transforms(n, seed):
    """Rotations, zooms and shifts (with a little perspective) that reach well outside the image."""
    r = np.random.default_rng(seed)
    angle, zoom = r.uniform(-3, 3, n), r.uniform(0.5, 1.8, n)
    shift = r.uniform(-9, 9, (n, 2))
    t = np.stack([zoom * np.cos(angle), -zoom * np.sin(angle), shift[:, 0], zoom * np.sin(angle),
                  zoom * np.cos(angle), shift[:, 1], r.uniform(-0.02, 0.02, n), r.uniform(-0.02, 0.02, n)], 1)
    return t.astype(np.float32)


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_transform_matches_the_per_pixel_reference(device, fill_mode, interpolation):
    x = rand((3, 5, 6, 2), seed=7)
    t = _transforms(3, seed=8)
    check_op(lambda a: image_ops.projective_transform(a, t, (4, 7), interpolation, fill_mode, fill_value=0.5), [x],
             lambda a: transform_ref(a, t, (4, 7), interpolation, fill_mode, 0.5), device, rtol=1e-4, atol=1e-4)


def test_transform_hand_worked(device):
    x = rand((1, 4, 4, 1), seed=9)
    with gf.device(device):
        a = gf.constant(x)
        same = image_ops.projective_transform(a, [[1, 0, 0, 0, 1, 0, 0, 0]], fill_mode="constant")
        np.testing.assert_array_equal(same.numpy(), x)
        # input x = output x - 1: the image moves one pixel right, the first column is fill_value
        right = image_ops.projective_transform(a, [[1, 0, -1, 0, 1, 0, 0, 0]], fill_mode="constant", fill_value=7.0)
        np.testing.assert_array_equal(right.numpy()[:, :, 1:], x[:, :, :-1])
        np.testing.assert_array_equal(right.numpy()[:, :, 0], 7.0)
        # input (x, y) = (y, 3 - x): out[i, j] = in[3 - j, i], a quarter turn clockwise, exact with nearest
        turn = image_ops.projective_transform(a, [[0, 1, 0, -1, 0, 3, 0, 0]], interpolation="nearest")
        np.testing.assert_array_equal(turn.numpy()[0, :, :, 0], np.rot90(x[0, :, :, 0], -1))
        # a projection of 0 (the line c0 x + c1 y = -1) is fill_value
        line = image_ops.projective_transform(a, [[1, 0, 0, 0, 1, 0, -1, 0]], fill_mode="nearest", fill_value=2.0)
        np.testing.assert_array_equal(line.numpy()[0, :, 1, 0], 2.0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_transform_dtypes_and_parity(device, dtype):
    x = rand((2, 5, 4, 3), dtype, seed=10)
    t = _transforms(2, seed=11)
    for mode in FILL_MODES:
        check_parity(lambda a: image_ops.projective_transform(a, t, (6, 3), "bilinear", mode), [x], device,
                     grad=False)


def test_transform_gradient_of_a_shift_is_the_shift_back():
    # TF's rule transforms the gradient by the inverse: the exact adjoint for whole-pixel shifts.
    x = rand((2, 4, 5, 2), "float64", seed=12)
    shift = np.array([[1, 0, 2, 0, 1, -1, 0, 0]], np.float32)
    check_grad(lambda a: image_ops.projective_transform(a, shift, fill_mode="constant"), [x])


def test_errors():
    err = gf.errors.InvalidArgumentError
    x = gf.constant(rand((2, 3, 3, 1)))
    for op in (gf.image.flip_left_right, gf.image.flip_up_down, gf.image.random_flip_left_right):
        with pytest.raises(err, match=rf"{op.__name__}: the image must be 3-D or 4-D .*got float32\[3, 3\]"):
            op(x[0, :, :, 0])
    with pytest.raises(err, match=r"central_crop: central_fraction must be within \(0, 1\], got 1.5"):
        gf.image.central_crop(x, 1.5)
    with pytest.raises(err, match=r"random_crop: size \[4, 3, 3, 1\] needs one entry per axis of "
                                  r"float32\[2, 3, 3, 1\]"):
        gf.image.random_crop(x, [4, 3, 3, 1])
    with pytest.raises(err, match=r"random_crop: size \[1, 1\] needs one entry per axis"):
        gf.image.random_crop(x, [1, 1])
    with pytest.raises(err, match=r"image_projective_transform: transforms must be float32 \[1 or batch \(2\), 8\], "
                                  r"got float32\[3, 8\]"):
        image_ops.projective_transform(x, np.zeros((3, 8), np.float32))
    with pytest.raises(err, match=r"fill_mode 'mirror' one of"):
        image_ops.projective_transform(x, np.zeros((1, 8), np.float32), fill_mode="mirror")
