"""max/avg pooling primitives and gf.nn.max_pool2d/avg_pool2d: forward vs explicit windows,
argmax (first max on ties), float64 gradients incl. overlapping windows, sim parity, errors."""
import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import conv_ops, pool_prims
from tests.harness import check_grad, check_op, check_parity, rand


def ref_pool(x, pool, strides, padding, reduce):
    """Each window cut out explicitly; 'same' windows hold only the real elements (tf's semantics)."""
    n, h, w, c = x.shape
    out_hw, pads = [], []
    for size, k, s in zip((h, w), pool, strides):
        o = math.ceil(size / s) if padding == "SAME" else (size - k) // s + 1
        total = max((o - 1) * s + k - size, 0) if padding == "SAME" else 0
        out_hw.append(o)
        pads.append(total // 2)
    out = np.zeros((n,) + tuple(out_hw) + (c,))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            r0, c0 = i * strides[0] - pads[0], j * strides[1] - pads[1]
            win = x[:, max(r0, 0):r0 + pool[0], max(c0, 0):c0 + pool[1], :]
            out[:, i, j, :] = reduce(win, axis=(1, 2))
    return out


# (x shape, pool, strides, padding): non-overlapping, overlapping (stride < pool), odd sizes,
# stride > pool, batch 1, and one large enough for several blocks.
CASES = [
    ((1, 4, 4, 1), (2, 2), (2, 2), "VALID"),
    ((2, 7, 5, 3), (3, 3), (2, 2), "SAME"),
    ((2, 6, 7, 2), (3, 2), (1, 1), "VALID"),
    ((1, 5, 9, 4), (2, 3), (3, 2), "SAME"),
    ((2, 5, 5, 3), (2, 2), (3, 3), "VALID"),
    ((3, 20, 18, 8), (3, 3), (2, 2), "SAME"),
]


def pool_fn(op, pool, strides, padding):
    return lambda x: getattr(gf.nn, op)(x, pool, strides, padding)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("op,reduce", [("max_pool2d", np.max), ("avg_pool2d", np.mean)])
def test_pool_forward(device, case, op, reduce):
    xs, pool, strides, padding = case
    check_op(pool_fn(op, pool, strides, padding), [rand(xs, seed=1)],
             lambda x: ref_pool(x, pool, strides, padding, reduce), device)


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[3]])
def test_pool_grad_float64(op, case):
    xs, pool, strides, padding = case
    # Distinct values (a permutation) so a finite-difference bump never changes which element is the max.
    x = np.random.default_rng(2).permutation(np.prod(xs[1:])).reshape((1,) + xs[1:]).astype(np.float64) / 10
    check_grad(pool_fn(op, pool, strides, padding), [x], eps=1e-4)


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("case", CASES)
def test_pool_sim_parity(op, case):
    xs, pool, strides, padding = case
    check_parity(pool_fn(op, pool, strides, padding), [rand(xs, seed=3)], "sim")


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_pool_dtypes_sim_parity(dtype):
    x = rand((2, 5, 6, 3), dtype, seed=4)
    for op in ("max_pool2d", "avg_pool2d"):
        check_parity(pool_fn(op, (2, 3), (2, 2), "SAME"), [x], "sim")


def test_max_pool_argmax_is_first_max_and_flat_index(device):
    # Every window of a constant input ties: tf picks the first element in row-major order.
    x = np.ones((2, 4, 4, 3), np.float32)
    y, argmax = pool_prims.max_pool2d(gf.constant(x), pool_size=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0))
    n, i, j, c = np.meshgrid(*[np.arange(d) for d in (2, 2, 2, 3)], indexing="ij")
    np.testing.assert_array_equal(argmax.numpy(), ((n * 4 + 2 * i) * 4 + 2 * j) * 3 + c)
    np.testing.assert_array_equal(y.numpy(), 1)


def test_max_pool_ties_send_gradient_to_first_max_only(device):
    x = gf.constant(np.zeros((1, 2, 2, 1), np.float32))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.nn.max_pool2d(x, 2, 2, "VALID")
    np.testing.assert_array_equal(tape.gradient(y, x).numpy()[0, :, :, 0], [[1, 0], [0, 0]])


def test_avg_pool_same_averages_real_elements_only(device):
    x = np.ones((1, 3, 3, 1), np.float32)
    np.testing.assert_array_equal(gf.nn.avg_pool2d(x, 2, 2, "SAME").numpy(), 1)


@pytest.mark.parametrize("prim,args", [
    ("max_pool2d_grad", lambda: (rand((1, 2, 2, 1), "float64"), np.array([[[[0], [1]], [[4], [3]]]], np.int64),
                                 dict(input_shape=(1, 3, 3, 1), pool_size=(2, 2), strides=(1, 1),
                                      pads=(0, 0, 0, 0)))),
    ("avg_pool2d_grad", lambda: (rand((1, 2, 3, 2), "float64"),
                                 dict(input_hw=(4, 5), pool_size=(3, 2), strides=(2, 2), pads=(1, 1, 0, 1)))),
])
def test_backward_primitives_grad_float64(prim, args):
    # Second order: the grad of max_pool2d_grad is a gather at argmax, that of avg_pool2d_grad is avg_pool2d.
    *arrays, params = args()
    check_grad(lambda *a: getattr(pool_prims, prim)(*a, **params), arrays, wrt=[0])


def test_pool1d(device):
    x = rand((2, 9, 3), seed=5)
    check_op(lambda a: conv_ops.max_pool1d(a, 3, 2, "SAME"), [x],
             lambda a: ref_pool(a[:, None], (1, 3), (1, 2), "SAME", np.max)[:, 0], device)
    check_op(lambda a: conv_ops.avg_pool1d(a, 2, 3, "VALID"), [x],
             lambda a: ref_pool(a[:, None], (1, 2), (1, 3), "VALID", np.mean)[:, 0], device)


@pytest.mark.parametrize("xs,kwargs,match", [
    ((4, 4, 3), {}, r"max_pool2d: .*NHWC \(rank 4\).*\[4, 4, 3\]"),
    ((1, 2, 2, 1), {"ksize": 3, "padding": "VALID"}, r"max_pool2d: .*larger than the padded input height"),
    ((1, 4, 4, 1), {"data_format": "NCHW"}, r"max_pool2d: .*channels last"),
    ((1, 4, 4, 1), {"padding": [[0, 0], [1, 1], [1, 1], [0, 0]]}, r"max_pool2d: padding must be"),
])
def test_pool_errors(xs, kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        gf.nn.max_pool2d(np.zeros(xs, np.float32), **{"ksize": 2, "strides": 2, "padding": "SAME", **kwargs})
    with pytest.raises(InvalidArgumentError, match="pads .* smaller than pool_size"):
        pool_prims.avg_pool2d(gf.zeros((1, 4, 4, 1)), pool_size=(2, 2), strides=(1, 1), pads=(2, 0, 0, 0))


def test_empty_batch_and_channels(device):
    assert gf.nn.max_pool2d(gf.zeros((0, 5, 5, 3)), 2, 2, "VALID").shape == (0, 2, 2, 3)
    assert gf.nn.avg_pool2d(gf.zeros((2, 4, 4, 0)), 2, 2, "SAME").shape == (2, 2, 2, 0)
