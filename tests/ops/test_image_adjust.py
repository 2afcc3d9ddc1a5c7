"""gf.image pixel values: convert_image_dtype's scaling rules between integer and float types (uint8 where
gpuflow has it), adjust_brightness, adjust_contrast and per_image_standardization against NumPy on every
device (empty and odd shapes), gradients by finite differences, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import image_adjust_ops
from tests.harness import check_grad, check_op, check_parity, rand

F32 = np.float32
I32_MAX, I64_MAX = 2**31 - 1, 2**63 - 1
HAS_UINT8 = hasattr(gf, "uint8")


def test_int_to_float_divides_by_the_max(device):
    x = np.array([[[0, 1, I32_MAX]]], np.int32)
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.float32), [x],
             lambda a: (a.astype(F32) * F32(1.0 / I32_MAX)), device, dtype="float32", rtol=1e-7, atol=0)
    check_op(lambda t: gf.image.convert_image_dtype(t, "float64"), [x.astype(np.int64)], lambda a: a / I64_MAX, device,
             dtype="float64")


def test_float_to_int_scales_by_max_plus_half_and_truncates(device):
    x = np.array([[[0.0, 0.25, 0.5, -0.3, 1.0, 2.0]]], np.float64)
    # 1.0 * (2**63 - 0.5) rounds to 2**63 in float64: saturation stops at the float below it, 2**63 - 1024
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.int64, saturate=True), [x],
             lambda a: np.trunc(np.clip(a * 2.0**63, -2.0**63, 2.0**63 - 1024)).astype(np.int64), device,
             dtype="int64")
    x32 = np.array([[[0.0, 0.25, 0.5, -0.3, 0.999, 1.0, 3.0, -2.0]]], np.float32)
    top = 2147483520  # the largest float32 that is not above 2**31 - 1: saturation cannot round past it
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.int32, saturate=True), [x32],
             lambda a: np.clip(np.trunc(x32 * F32(I32_MAX + 0.5)), -2**31, top).astype(np.int32), device,
             dtype="int32")
    inside = x32[..., :5]  # without saturation, values that fit are the same
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.int32), [inside],
             lambda a: np.trunc(inside * F32(I32_MAX + 0.5)).astype(np.int32), device, dtype="int32")


def test_int_to_int_shifts_by_the_ratio_of_ranges(device):
    wide = np.array([[[0, 2**32, -2**32 - 1, I64_MAX, -2**63]]], np.int64)
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.int32), [wide], lambda a: a // 2**32, device, dtype="int32")
    narrow = np.array([[[0, 1, -1, I32_MAX]]], np.int32)
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.int64), [narrow], lambda a: a.astype(np.int64) * 2**32,
             device, dtype="int64")


def test_float_to_float_is_a_cast_and_same_dtype_is_the_image(device):
    x = rand((2, 3, 3), seed=1)
    check_op(lambda t: gf.image.convert_image_dtype(t, gf.float16), [x], lambda a: a.astype(np.float16), device,
             dtype="float16", rtol=1e-3, atol=1e-3)
    with gf.device(device):
        t = gf.constant(x)
        assert gf.image.convert_image_dtype(t, gf.float32) is t


@pytest.mark.skipif(not HAS_UINT8, reason="gpuflow has no uint8 dtype yet")
def test_uint8_images(device):
    pixels = np.array([[[0, 1, 127, 128, 255]]], np.uint8)
    with gf.device(device):
        t = gf.constant(pixels)
        as_float = gf.image.convert_image_dtype(t, gf.float32)
        np.testing.assert_array_equal(as_float.numpy(), pixels.astype(F32) * F32(1 / 255))
        back = gf.image.convert_image_dtype(as_float, gf.uint8)
        np.testing.assert_array_equal(back.numpy(), pixels)  # 255 * (x / 255) + truncation: the same pixels
        floats = gf.constant(np.array([[[-0.5, 0.0, 0.5, 1.0, 1.5]]], F32))
        np.testing.assert_array_equal(gf.image.convert_image_dtype(floats, gf.uint8, saturate=True).numpy(),
                                      [[[0, 0, 127, 255, 255]]])
        np.testing.assert_array_equal(gf.image.convert_image_dtype(t, gf.int32).numpy(),
                                      pixels.astype(np.int64) * 2**23)
        big = gf.constant(np.array([[[0, 2**23 - 1, 2**23, I32_MAX]]], np.int32))
        np.testing.assert_array_equal(gf.image.convert_image_dtype(big, gf.uint8).numpy(), [[[0, 0, 1, 255]]])
        np.testing.assert_array_equal(gf.image.adjust_brightness(t, 0.5).numpy(),
                                      np.clip(np.trunc((pixels.astype(F32) * F32(1 / 255) + F32(0.5)) * F32(255.5)),
                                              0, 255).astype(np.uint8))


@pytest.mark.parametrize("shape", [(4, 5, 3), (2, 3, 4, 2), (0, 2, 2, 1), (1, 1, 1, 5)], ids=str)
def test_adjust_brightness_and_contrast(device, shape):
    x = rand(shape, seed=2)
    check_op(lambda t: gf.image.adjust_brightness(t, 0.3), [x], lambda a: a + 0.3, device)
    check_op(lambda t: gf.image.adjust_contrast(t, 1.7), [x],
             lambda a: (a - a.mean(axis=(-3, -2), keepdims=True)) * 1.7 + a.mean(axis=(-3, -2), keepdims=True),
             device, rtol=1e-5, atol=1e-5)


def test_adjust_integer_images_go_through_float32_and_saturate(device):
    x = rand((3, 4, 2), "int32", low=0, high=1000, seed=3) * 2**20
    scale = F32(1.0 / I32_MAX)

    def back(f):
        return np.clip(np.trunc(f * F32(I32_MAX + 0.5)), -2**31, 2147483520).astype(np.int32)
    check_op(lambda t: gf.image.adjust_brightness(t, 0.75), [x],
             lambda a: back(x.astype(F32) * scale + F32(0.75)), device, dtype="int32")
    check_op(lambda t: gf.image.adjust_contrast(t, 3.0), [x], lambda a: back(
        _contrast(x.astype(F32) * scale, 3.0)), device, dtype="int32", atol=256)


def _contrast(f, factor):
    mean = f.mean(axis=(-3, -2), keepdims=True, dtype=np.float64).astype(F32)
    return (f - mean) * F32(factor) + mean  # below 0 too: int32 images are signed


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_adjust_keeps_the_dtype(device, dtype):
    x = rand((2, 3, 4, 3), dtype, seed=4)
    for op in (lambda t: gf.image.adjust_brightness(t, -0.2), lambda t: gf.image.adjust_contrast(t, 0.5)):
        check_parity(op, [x], device)
        with gf.device(device):
            assert op(gf.constant(x)).dtype == gf.as_dtype(dtype)


@pytest.mark.parametrize("shape", [(4, 5, 3), (2, 3, 4, 2), (3, 1, 1, 1), (0, 3, 3, 1)], ids=str)
def test_per_image_standardization(device, shape):
    x = rand(shape, seed=5)

    def ref(a):
        n = np.prod(a.shape[-3:])
        mean = a.mean(axis=(-3, -2, -1), keepdims=True)
        return (a - mean) / np.maximum(a.std(axis=(-3, -2, -1), keepdims=True), 1 / np.sqrt(n))
    check_op(gf.image.per_image_standardization, [x], ref, device, rtol=1e-5, atol=1e-5, dtype="float32")
    # integers become float32 (TF), and a uniform image gets the 1/sqrt(N) floor instead of a division by 0
    flat = np.full((2, 2, 3), 7, np.int32)
    check_op(gf.image.per_image_standardization, [flat], lambda a: np.zeros((2, 2, 3)), device, dtype="float32")


def test_gradients():
    x = rand((2, 3, 4, 2), "float64", seed=6)
    check_grad(image_adjust_ops.standardize, [x])
    # adjust_* compute in float32 (TF): finite differences over a step float32 resolves
    check_grad(lambda t: gf.image.adjust_brightness(t, 0.1), [x], eps=1e-2, rtol=1e-3, atol=1e-3)
    check_grad(lambda t: gf.image.adjust_contrast(t, 1.5), [x], eps=1e-2, rtol=1e-3, atol=1e-3)
    check_grad(lambda t: gf.cast(gf.image.per_image_standardization(t), gf.float64), [x], eps=1e-3, rtol=2e-3,
               atol=2e-3)


def test_errors():
    err = gf.errors.InvalidArgumentError
    x = gf.constant(rand((3, 3)))
    for op, args in ((gf.image.adjust_brightness, (0.1,)), (gf.image.adjust_contrast, (2.0,)),
                     (gf.image.per_image_standardization, ())):
        with pytest.raises(err, match=rf"{op.__name__}: the image must be at least 3-D .*got float32\[3, 3\]"):
            op(x, *args)
    with pytest.raises(err, match=r"convert_image_dtype: the image dtype must be a float or integer type, got bool"):
        gf.image.convert_image_dtype(gf.constant(np.ones((1, 1, 1), bool)), gf.float32)
    with pytest.raises(err, match=r"convert_image_dtype: the dtype dtype must be a float or integer type, got bool "
                                  r"\(image float32\[3, 3\]\)"):
        gf.image.convert_image_dtype(x, gf.bool)
