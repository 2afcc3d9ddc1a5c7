"""einsum (lowered to transpose + batched matmul + reduce_sum + gather) and tensordot: forward vs
np.einsum / np.tensordot on every device, float64 gradients on cpu through the lowering, sim/cuda
parity, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand

EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("ii->i", [(4, 4)]), ("ii", [(4, 4)]), ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]), ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]), ("iij->j", [(3, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ab,cd->", [(2, 3), (4, 5)]), ("Ab,bA->A", [(2, 3), (3, 2)]), ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ijk,ikj->i", [(2, 3, 3), (2, 3, 3)]), ("iji->ij", [(3, 2, 3)]), ("ba", [(2, 3)]),
    ("...,...->...", [(2, 3), (3,)]), ("i...->...", [(2, 3, 4)]), ("...j,j...->...", [(2, 1, 3), (3, 4)]),
    ("bij,jk->bik", [(3, 5, 7), (7, 9)]), (" b i j , b j k -> b k i ", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->ij", [(0, 3), (0, 3)]), ("ij,kj->ik", [(3, 0), (4, 0)]), ("i,i->i", [(1,), (1,)]),
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_forward(device, equation, shapes):
    inputs = [rand(s, seed=k) for k, s in enumerate(shapes)]
    check_op(lambda *xs: gf.einsum(equation, *xs), inputs, lambda *xs: np.einsum(equation, *xs), device,
             rtol=1e-4, atol=1e-4)


def test_einsum_sums_ellipsis_dims_left_out_of_the_output(device):
    check_op(lambda x: gf.einsum("...i->i", x), [rand((2, 3, 4))], lambda x: x.sum((0, 1)), device)


@pytest.mark.parametrize("equation,shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 3)]), ("ii->i", [(3, 3)]),
                                             ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
                                             ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("iij->j", [(2, 2, 3)]),
                                             ("i,j->ij", [(3,), (2,)]), ("ab->", [(2, 3)])],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_einsum_grad(equation, shapes):
    check_grad(lambda *xs: gf.einsum(equation, *xs), [rand(s, seed=k) for k, s in enumerate(shapes)])


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_einsum_parity(device, dtype):
    check_parity(lambda a, b: gf.einsum("bhqd,bhkd->bhqk", a, b),
                 [rand((2, 2, 3, 8), dtype, seed=1), rand((2, 2, 5, 8), dtype, seed=2)], device)
    check_parity(lambda a: gf.einsum("iij->ji", a), [rand((3, 3, 4), dtype, seed=3)], device)


def test_einsum_integers(device):
    a, b = rand((3, 4), "int32", -3, 3, seed=1), rand((4, 2), "int32", -3, 3, seed=2)
    check_op(lambda x, y: gf.einsum("ij,jk->ik", x, y), [a, b], lambda x, y: np.einsum("ij,jk->ik", x, y), device)
    assert gf.linalg.einsum("ij,jk->ik", [gf.constant(a), gf.constant(b)]).dtype == gf.int32


def test_einsum_errors():
    a, b = gf.constant(rand((2, 3))), gf.constant(rand((4, 5)))
    cases = [
        (lambda: gf.einsum("ij,jk->ik", a, b), r"einsum: label 'j' of 'ij,jk->ik' has size 3 in one operand and 4"),
        (lambda: gf.einsum("ij,jk->ik", a), r"names 2 operands but 1 were given"),
        (lambda: gf.einsum("ijk->i", a), r"operand 'ijk' .* has 3 labels for a tensor of shape \[2, 3\]"),
        (lambda: gf.einsum("ij->iz", a), r"output labels \['z'\] of 'ij->iz' appear in no operand"),
        (lambda: gf.einsum("ij->ii", a), r"output 'ii' of 'ij->ii' repeats a label"),
        (lambda: gf.einsum("i1->i", a), r"invalid subscripts 'i1'"),
        (lambda: gf.einsum("ij,ij->", a, gf.constant(np.ones((2, 3)))), r"einsum: operands have different dtypes"),
    ]
    for call, message in cases:
        with pytest.raises(gf.errors.InvalidArgumentError, match=message):
            call()


# ---- tensordot -----------------------------------------------------------------------------------
TENSORDOTS = [((3, 4, 5), (5, 4, 2), [[1, 2], [1, 0]]), ((3, 4), (4, 5), 1), ((2, 3), (4,), 0), ((3, 0), (0, 2), 1),
              ((2, 3), (3, 2), [[1], [0]]), ((2, 3), (2, 3), 2), ((3, 4), (4,), [-1, 0])]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOTS, ids=str)
def test_tensordot_forward_and_grad(device, sa, sb, axes):
    a, b = rand(sa, seed=1), rand(sb, seed=2)
    check_op(lambda x, y: gf.tensordot(x, y, axes), [a, b], lambda x, y: np.tensordot(x, y, axes), device,
             rtol=1e-4, atol=1e-4)
    if device == "cpu" and a.size and b.size:
        check_grad(lambda x, y: gf.tensordot(x, y, axes), [a, b])


def test_tensordot_axes_as_tensor_and_errors():
    a, b = gf.constant(rand((2, 3))), gf.constant(rand((3, 4)))
    np.testing.assert_allclose(gf.tensordot(a, b, gf.constant(1)).numpy(), a.numpy() @ b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gf.linalg.tensordot(a, b, gf.constant([[1], [0]])).numpy(), a.numpy() @ b.numpy(),
                               rtol=1e-6)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"tensordot: axes = 3 must be in \[0, 2\]"):
        gf.tensordot(a, b, 3)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"tensordot: axes \[0\] of float32\[2, 3\] and \[0\] of "
                                                             r"float32\[3, 4\] must pair up with equal sizes"):
        gf.tensordot(a, b, [[0], [0]])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"tensordot: axis 5 is out of range"):
        gf.tensordot(a, b, [[5], [0]])
