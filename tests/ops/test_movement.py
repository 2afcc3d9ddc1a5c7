"""Data movement: reshape, transpose, broadcast_to, concat/stack/split, slicing, pad, tile.

Forward against NumPy on every device, float64 finite-difference gradients on cpu, and
sim/cuda parity (forward and backward) against cpu across dtypes."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import movement as prims
from tests.harness import check_grad, check_op, check_parity, rand

PARITY_DTYPES = ["float32", "float16", "bfloat16", "int32", "int64", "uint8", "int16"]
BIG = (250, 280)  # 70_000 elements: many tiles and many grid-stride rounds on sim's 4 blocks


# ---- transpose -----------------------------------------------------------------------
TRANSPOSES = [
    ((0, 3), (1, 0)), ((1, 1), (1, 0)), ((5, 7), (1, 0)), ((33, 65), (1, 0)), (BIG, (1, 0)),
    ((3, 37, 45), (0, 2, 1)),   # batched last-two-axes: the tiled kernel
    ((3, 37, 45), (2, 0, 1)),   # merges to a 2-D transpose
    ((2, 3, 4, 5), (3, 1, 0, 2)),  # general: the strided gather kernel
    ((4, 1, 6), (1, 2, 0)), ((2, 0, 3), (2, 1, 0)), ((), ()),
]


@pytest.mark.parametrize("shape,perm", TRANSPOSES)
def test_transpose_forward(device, shape, perm):
    check_op(lambda x: gf.transpose(x, perm), [rand(shape, seed=1)], lambda x: np.transpose(x, perm), device)


def test_transpose_default_and_negative_perm(device):
    x = rand((2, 3, 4))
    check_op(gf.transpose, [x], np.transpose, device)
    check_op(lambda t: gf.transpose(t, [0, -1, -2]), [x], lambda t: np.transpose(t, (0, 2, 1)), device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
@pytest.mark.parametrize("perm", [(1, 0, 2), (0, 2, 1), (2, 0, 1)])
def test_transpose_parity(device, dtype, perm):
    check_parity(lambda x: gf.transpose(x, perm), [rand((3, 17, 40), dtype, seed=2)], device)


@pytest.mark.parametrize("perm", [(1, 0, 2), (0, 2, 1), (2, 1, 0)])
def test_transpose_grad(perm):
    check_grad(lambda x: gf.transpose(x, perm), [rand((2, 3, 4))])


# ---- reshape and friends ------------------------------------------------------------
def test_reshape_forms(device):
    x = rand((2, 3, 4))
    check_op(lambda t: gf.reshape(t, [-1, 4]), [x], lambda t: t.reshape(-1, 4), device)
    check_op(lambda t: gf.reshape(t, [4, None, 2]), [x], lambda t: t.reshape(4, 3, 2), device)
    check_op(lambda t: gf.reshape(t, []), [rand((1, 1))], lambda t: t.reshape(()), device)
    check_op(lambda t: gf.reshape(t, [0, 5]), [rand((3, 0))], lambda t: t.reshape(0, 5), device)
    check_op(lambda t: gf.expand_dims(t, -1), [x], lambda t: t[..., None], device)
    check_op(lambda t: gf.squeeze(t), [rand((1, 3, 1))], np.squeeze, device)
    check_op(lambda t: gf.squeeze(t, [2]), [rand((1, 3, 1))], lambda t: t[:, :, 0], device)


def test_reshape_grad_and_parity(device):
    check_grad(lambda t: gf.reshape(t, [3, -1]) * gf.constant(np.arange(8.0)), [rand((2, 3, 4))])
    check_parity(lambda t: gf.reshape(gf.transpose(t), [-1]), [rand((3, 5), seed=3)], device)


def test_reshape_errors():
    x = gf.constant(rand((2, 3)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"reshape: cannot reshape float32\[2, 3\] \(6 elements\)"):
        gf.reshape(x, [4, 2])
    with pytest.raises(gf.errors.InvalidArgumentError, match="at most one -1"):
        gf.reshape(x, [-1, -1])
    with pytest.raises(gf.errors.InvalidArgumentError, match="reshape"):
        gf.reshape(x, [-1, 4])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"squeeze: axis \[1\].*not of size 1"):
        gf.squeeze(x, 1)


def test_transpose_errors():
    x = gf.constant(rand((2, 3, 4)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"transpose: perm \[0, 1, 5\] is not a permutation"):
        gf.transpose(x, [0, 1, 5])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"perm \[0, 0, 1\].*float32\[2, 3, 4\]"):
        gf.transpose(x, [0, 0, 1])


# ---- broadcast_to and tile --------------------------------------------------------------
BROADCASTS = [((3,), (4, 3)), ((1,), (5,)), ((2, 1, 3), (2, 5, 3)), ((1, 1), (0, 4)), ((), (2, 3)),
              ((250, 1), BIG), ((4, 1, 3), (2, 4, 5, 3))]


@pytest.mark.parametrize("shape,target", BROADCASTS)
def test_broadcast_to_forward(device, shape, target):
    check_op(lambda x: gf.broadcast_to(x, target), [rand(shape, seed=4)], lambda x: np.broadcast_to(x, target),
             device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
def test_broadcast_to_parity(device, dtype):
    check_parity(lambda x: gf.broadcast_to(x, (3, 4, 5)), [rand((4, 1), dtype, seed=5)], device)


@pytest.mark.parametrize("shape,target", [((3,), (2, 3)), ((2, 1, 3), (2, 4, 3)), ((), (3,))])
def test_broadcast_to_grad(shape, target):
    check_grad(lambda x: gf.broadcast_to(x, target), [rand(shape)])


def test_broadcast_to_error():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"broadcast_to.*\(2, 3\).*\(4, 3\)"):
        gf.broadcast_to(gf.constant(rand((2, 3))), (4, 3))


TILES = [((2, 3), (2, 3)), ((3,), (4,)), ((2, 1, 3), (1, 5, 2)), ((2, 3), (0, 2)), ((0, 2), (3, 1)), ((), ()),
         ((250, 28), (1, 10))]


@pytest.mark.parametrize("shape,multiples", TILES)
def test_tile_forward(device, shape, multiples):
    check_op(lambda x: gf.tile(x, multiples), [rand(shape, seed=6)], lambda x: np.tile(x, multiples), device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
def test_tile_parity(device, dtype):
    check_parity(lambda x: gf.tile(x, [3, 1, 2]), [rand((2, 3, 5), dtype, seed=7)], device)


@pytest.mark.parametrize("shape,multiples", [((2, 3), (2, 3)), ((3,), (1,)), ((2, 1, 2), (1, 3, 2))])
def test_tile_grad(shape, multiples):
    check_grad(lambda x: gf.tile(x, multiples), [rand(shape)])


# ---- concat, stack, split, unstack ----------------------------------------------------------------
@pytest.mark.parametrize("shapes,axis", [
    ([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0), (2, 5)], 1), ([(2, 3, 4)] * 3, -1), ([(3,), (0,)], 0),
    ([(0, 2), (0, 3)], 1), ([(250, 140), (250, 140)], 1), ([(7, 5, 3), (7, 1, 3)], 1)])
def test_concat_forward(device, shapes, axis):
    xs = [rand(s, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda *t: gf.concat(list(t), axis), xs, lambda *a: np.concatenate(a, axis), device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
def test_concat_parity(device, dtype):
    xs = [rand((2, n, 3), dtype, seed=n) for n in (1, 4, 2)]
    check_parity(lambda *t: gf.concat(list(t), 1), xs, device)


def test_concat_grad():
    check_grad(lambda a, b, c: gf.concat([a, b, c], 1), [rand((2, 1)), rand((2, 3), seed=1), rand((2, 2), seed=2)])


def test_concat_errors():
    a, b = gf.constant(rand((2, 3))), gf.constant(rand((3, 3)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"concat: along axis 1.*\[2, 3\], \[3, 3\]"):
        gf.concat([a, b], 1)
    with pytest.raises(gf.errors.InvalidArgumentError, match="concat: inputs have different dtypes"):
        gf.concat([a, gf.constant(rand((2, 3), "float64"))], 0)
    with pytest.raises(gf.errors.InvalidArgumentError, match="concat: axis 2 is out of range"):
        gf.concat([a, a], 2)


def test_stack_unstack_split(device):
    xs = [rand((2, 3), seed=i) for i in range(3)]
    check_op(lambda *t: gf.stack(list(t), axis=1), xs, lambda *a: np.stack(a, 1), device)
    x = rand((4, 6, 2))
    check_op(lambda t: gf.unstack(t, axis=1), [x], lambda a: [a[:, i] for i in range(6)], device)
    check_op(lambda t: gf.split(t, 3, axis=1), [x], lambda a: np.split(a, 3, 1), device)
    check_op(lambda t: gf.split(t, [1, -1, 2], axis=1), [x], lambda a: np.split(a, [1, 4], 1), device)
    check_op(lambda t: gf.split(t, [0, 4], axis=0), [x], lambda a: np.split(a, [0], 0), device)


def test_stack_split_grad():
    check_grad(lambda a, b: gf.stack([a, b], axis=-1), [rand((2, 3)), rand((2, 3), seed=1)])
    check_grad(lambda t: gf.split(t, [2, -1], axis=1), [rand((3, 5))])
    check_grad(lambda t: gf.unstack(t, axis=0), [rand((3, 2))])


def test_stack_split_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"stack: all tensors need one shape.*\[2\], \[3\]"):
        gf.stack([gf.constant(rand((2,))), gf.constant(rand((3,)))])
    with pytest.raises(gf.errors.InvalidArgumentError, match="split: axis 0 of size 5 cannot be split into 2"):
        gf.split(gf.constant(rand((5,))), 2)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"split: sizes \[2, 2\] do not add up to 5"):
        gf.split(gf.constant(rand((5,))), [2, 2])


# ---- slicing (tf.slice and the strided_slice primitives) ------------------------------------
SLICES = [((0, 0), (3, 4), (1, 1)), ((4, 3), (-1, 0), (-2, -1)), ((1, 3), (5, 0), (3, -2)), ((2, 0), (2, 4), (1, 1)),
          ((5, 3), (0, -1), (-1, -1))]


@pytest.mark.parametrize("begin,end,strides", SLICES)
def test_strided_slice_forward(device, begin, end, strides):
    expected = lambda x: x[tuple(slice(b, e if e >= 0 else None, s) for b, e, s in zip(begin, end, strides))]  # noqa: E731
    check_op(lambda x: prims.strided_slice(x, begin=begin, end=end, strides=strides), [rand((6, 4))], expected,
             device)


@pytest.mark.parametrize("begin,end,strides", SLICES)
def test_strided_slice_grad_forward(device, begin, end, strides):
    """strided_slice_grad puts g where the slice read from and zeros elsewhere."""
    index = tuple(slice(b, e if e >= 0 else None, s) for b, e, s in zip(begin, end, strides))
    g = rand(np.zeros((6, 4))[index].shape, seed=8)

    def expected(a):
        out = np.zeros((6, 4))
        out[index] = a
        return out
    check_op(lambda t: prims.strided_slice_grad(t, shape=(6, 4), begin=begin, end=end, strides=strides), [g],
             expected, device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
def test_strided_slice_parity(device, dtype):
    check_parity(lambda x: x[::-2, 1:, ::3], [rand((7, 5, 9), dtype, seed=9)], device)
    check_parity(lambda x: x[5:300:7, ::-1], [rand(BIG, dtype, seed=10)], device)


@pytest.mark.parametrize("begin,end,strides", SLICES[:3])
def test_strided_slice_grads(begin, end, strides):
    check_grad(lambda x: prims.strided_slice(x, begin=begin, end=end, strides=strides), [rand((6, 4))])
    g = rand(np.zeros((6, 4))[tuple(slice(b, e if e >= 0 else None, s) for b, e, s in zip(begin, end, strides))].shape)
    check_grad(lambda t: prims.strided_slice_grad(t, shape=(6, 4), begin=begin, end=end, strides=strides), [g])


def test_strided_slice_errors():
    x = gf.constant(rand((6, 4)))
    for begin, end, strides in [((0, 0), (7, 4), (1, 1)), ((0, 0), (-1, 4), (1, 1)), ((6, 0), (0, 4), (-1, 1)),
                                ((0,), (6,), (1,)), ((0, 0), (6, 4), (1, 0))]:
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"strided_slice: begin .*float32\[6, 4\]"):
            prims.strided_slice(x, begin=begin, end=end, strides=strides)


def test_tf_slice(device):
    x = rand((4, 5, 6))
    check_op(lambda t: gf.slice(t, [1, 0, 2], [2, -1, 3]), [x], lambda a: a[1:3, :, 2:5], device)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"slice: begin \[3, 0, 0\], size \[2, 1, 1\] reach outside"):
        gf.slice(gf.constant(x), [3, 0, 0], [2, 1, 1])


# ---- pad -------------------------------------------------------------------------------------
PADS = [((3,), ((1, 2),), 0.0), ((2, 3), ((0, 1), (2, 0)), -1.5), ((0, 2), ((1, 1), (0, 0)), 3.0),
        ((2, 0), ((0, 0), (1, 2)), 2.0), ((), (), 0.0), ((250, 280), ((1, 1), (0, 3)), 0.5)]


@pytest.mark.parametrize("shape,paddings,value", PADS)
def test_pad_forward(device, shape, paddings, value):
    check_op(lambda x: gf.pad(x, paddings, constant_values=value), [rand(shape, seed=11)],
             lambda x: np.pad(x, paddings, constant_values=value) if paddings else x, device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
def test_pad_parity(device, dtype):
    check_parity(lambda x: gf.pad(x, [[1, 0], [2, 3], [0, 1]], constant_values=2), [rand((3, 4, 2), dtype, seed=12)],
                 device)


def test_pad_grad():
    check_grad(lambda x: gf.pad(x, [[1, 2], [0, 1]], constant_values=1.0), [rand((2, 3))])


def test_pad_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"pad: paddings \[\[1, -1\]\] must be one non-negative"):
        gf.pad(gf.constant(rand((3,))), [[1, -1]])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"pad: paddings.*float32\[2, 3\]"):
        gf.pad(gf.constant(rand((2, 3))), [[1, 1]])


# ---- pad: REFLECT and SYMMETRIC ----------------------------------------------------------------
# (shape, paddings) legal for both modes unless marked; REFLECT allows up to dim - 1 per side,
# SYMMETRIC up to dim.
MIRROR_PADS = [
    ((5,), ((4, 4),)), ((5,), ((0, 0),)), ((2,), ((1, 0),)), ((7,), ((3, 1),)),
    ((3, 4), ((2, 2), (3, 3))), ((3, 4), ((0, 1), (2, 0))), ((1, 5), ((0, 0), (4, 2))),
    ((3, 1, 5), ((1, 2), (0, 0), (4, 3))), ((2, 3, 4, 5), ((1, 1), (2, 0), (0, 3), (4, 4))),
    ((4, 3, 2), ((3, 3), (2, 2), (1, 1))), ((0, 3), ((0, 0), (2, 1)), "SYMMETRIC"), ((), ()),
    ((1,), ((1, 1),), "SYMMETRIC"), ((3, 2), ((3, 3), (2, 2)), "SYMMETRIC"),
    ((1, 1, 2), ((1, 0), (0, 1), (2, 2)), "SYMMETRIC"),
    (BIG, ((249, 3), (1, 279))),
]
MIRROR_CASES = [(mode, c[0], c[1]) for c in MIRROR_PADS for mode in ("REFLECT", "SYMMETRIC") if c[2:] in ((), (mode,))]


def _np_pad(x, paddings, mode):
    return np.pad(x, paddings, mode=mode.lower()) if paddings else x.copy()


@pytest.mark.parametrize("mode,shape,paddings", MIRROR_CASES)
def test_pad_mirror_forward(device, mode, shape, paddings):
    check_op(lambda x: gf.pad(x, paddings, mode=mode), [rand(shape, seed=13)],
             lambda x: _np_pad(x, paddings, mode), device)


@pytest.mark.parametrize("mode", ["reflect", "Symmetric"])
def test_pad_mode_is_case_insensitive_and_takes_tensor_paddings(device, mode):
    x = rand((3, 4), seed=14)
    paddings = gf.constant([[1, 2], [0, 3]])
    check_op(lambda t: gf.pad(t, paddings, mode), [x], lambda a: np.pad(a, [[1, 2], [0, 3]], mode=mode.lower()), device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES + ["bool"])
@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_pad_mirror_dtypes(device, dtype, mode):
    paddings = [[1, 2], [3, 0], [0, 2]]
    out = check_op(lambda x: gf.pad(x, paddings, mode=mode), [rand((3, 4, 5), dtype, seed=15)],
                   lambda x: np.pad(x, paddings, mode=mode.lower()), device, rtol=1e-7, atol=0)
    assert out.dtype == gf.as_dtype(dtype)


@pytest.mark.parametrize("mode,shape,paddings", [c for c in MIRROR_CASES if c[1] != BIG])
def test_pad_mirror_grad(mode, shape, paddings):
    check_grad(lambda x: gf.pad(x, paddings, mode=mode), [rand(shape, seed=16)])


def _fold_reference(cot, shape, paddings, mode):
    """The mirror-pad gradient by brute force: pad the element numbers, sum cot over each number."""
    source = _np_pad(np.arange(int(np.prod(shape))).reshape(shape), paddings, mode)
    return np.bincount(source.ravel(), weights=cot.ravel(), minlength=int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("mode,shape,paddings", [c for c in MIRROR_CASES if c[1] in ((7,), (2, 3, 4, 5), BIG, (3, 2))])
def test_pad_mirror_grad_on_device(device, mode, shape, paddings):
    """float64 gradients on each device (sim runs the slices, pads and adds on its kernels) vs a brute-force fold."""
    x = gf.constant(rand(shape, "float64", seed=17))
    out_shape = tuple(d + lo + hi for d, (lo, hi) in zip(shape, paddings))
    cot = rand(out_shape, "float64", seed=18)
    with gf.GradientTape() as tape:
        tape.watch(x)
        loss = gf.reduce_sum(gf.pad(x, paddings, mode=mode) * gf.constant(cot))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), _fold_reference(cot, shape, paddings, mode),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_pad_mirror_parity(device, dtype, mode):
    check_parity(lambda x: gf.pad(x, [[2, 1], [0, 3], [1, 1]], mode=mode), [rand((3, 4, 2), dtype, seed=19)], device)


def test_pad_mirror_errors():
    x = gf.constant(rand((2, 3)))
    with pytest.raises(gf.errors.InvalidArgumentError,
                       match=r"pad: mode REFLECT on axis 1 of float32\[2, 3\]: paddings \[0, 3\] must be less than "
                             r"the dimension size 3"):
        gf.pad(x, [[1, 1], [0, 3]], mode="REFLECT")
    with pytest.raises(gf.errors.InvalidArgumentError,
                       match=r"pad: mode SYMMETRIC on axis 0 of float32\[2, 3\]: paddings \[3, 0\] must be no "
                             r"greater than the dimension size 2"):
        gf.pad(x, [[3, 0], [3, 3]], mode="symmetric")
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"REFLECT cannot mirror an empty axis"):
        gf.pad(gf.constant(rand((0, 3))), [[0, 0], [1, 1]], mode="REFLECT")  # tf rejects this too
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"axis 0 of float32\[0, 3\]: paddings \[1, 0\]"):
        gf.pad(gf.constant(rand((0, 3))), [[1, 0], [1, 1]], mode="SYMMETRIC")
    for mode in ("REFLECT", "SYMMETRIC"):
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"pad: paddings \[\[1, 1\], \[-1, 0\]\] must be one "
                                                                 r"non-negative"):
            gf.pad(x, [[1, 1], [-1, 0]], mode=mode)
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"pad: paddings.*float32\[2, 3\]"):
            gf.pad(x, [[1, 1]], mode=mode)
    with pytest.raises(ValueError, match=r"pad: mode must be one of 'CONSTANT', 'REFLECT' or 'SYMMETRIC'.*'EDGE'"):
        gf.pad(x, [[1, 1], [1, 1]], mode="EDGE")
    with pytest.raises(ValueError, match=r"pad: constant_values=2 has no effect with mode 'REFLECT'"):
        gf.pad(x, [[1, 1], [1, 1]], mode="REFLECT", constant_values=2)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"pad: mode 'WRAP' is not one of"):
        prims.pad(x, paddings=((0, 0), (0, 0)), constant_value=0, mode="WRAP")  # the primitive checks too


# ---- reverse -----------------------------------------------------------------------------------
REVERSES = [((5,), [0]), ((3, 4), [1]), ((3, 4), [0, -1]), ((2, 3, 4, 5), [3, 1]), ((2, 1, 3), [1]),
            ((0, 3), [0, 1]), ((3, 4), []), ((), []), (BIG, [0, 1])]


@pytest.mark.parametrize("shape,axis", REVERSES)
def test_reverse_forward(device, shape, axis):
    check_op(lambda x: gf.reverse(x, axis), [rand(shape, seed=20)], lambda x: np.flip(x, axis).copy(), device)


@pytest.mark.parametrize("dtype", PARITY_DTYPES + ["bool"])
def test_reverse_dtypes(device, dtype):
    check_op(lambda x: gf.reverse(x, gf.constant([0, 2])), [rand((3, 4, 5), dtype, seed=21)],
             lambda x: np.flip(x, (0, 2)).copy(), device, rtol=1e-7, atol=0)


def test_reverse_grad():
    check_grad(lambda x: gf.reverse(x, [0, 2]), [rand((3, 2, 4))])


def test_reverse_errors():
    x = gf.constant(rand((2, 3)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"reverse: axis 2 is out of range for a tensor of rank 2"):
        gf.reverse(x, [2])
    with pytest.raises(gf.errors.InvalidArgumentError,
                       match=r"reverse: axis \[1, -1\] names an axis of float32\[2, 3\] more than once"):
        gf.reverse(x, [1, -1])


def test_shape_size_rank(device):
    x = gf.constant(rand((2, 0, 3)))
    assert gf.shape(x).numpy().tolist() == [2, 0, 3] and gf.shape(x).device == gf.devices.parse(device).__str__()
    assert int(gf.size(x)) == 0 and int(gf.rank(x)) == 3
    assert gf.shape(x, out_type=gf.int64).dtype == gf.int64
