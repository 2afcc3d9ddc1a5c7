"""tf.einsum, lowered onto existing primitives: a diagonal is a gather, a label summed away is a
reduce_sum, and each pair of operands is one batched matmul between two transposed and reshaped
operands (batch labels, then free labels, then contracted labels). Gradients come from those
primitives' rules, so einsum needs none of its own and every device runs it.

Labels are the letters of the equation; the dims an ellipsis stands for get the labels 0, 1, ...
(right-aligned across operands, as broadcasting aligns them)."""
from __future__ import annotations

import math
import string

import numpy as np

from .. import devices as _device
from ..errors import InvalidArgumentError
from .array import reshape, transpose
from .creation import constant
from .linalg_prims import matmul
from .math import operands, reduce_sum
from .movement import gather

__all__ = ["einsum"]

_LETTERS = set(string.ascii_letters)


def _parse_term(term, equation):
    if term.count("...") > 1 or any(c not in _LETTERS for c in term.replace("...", "")):
        raise InvalidArgumentError(f"einsum: invalid subscripts {term!r} in {equation!r}: use letters and at most "
                                   f"one '...' per operand")
    head, dots, tail = term.partition("...")
    return list(head), bool(dots), list(tail)


def _labels(equation, shapes):
    """(per-operand label lists, output labels, size of every label)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise InvalidArgumentError(f"einsum: equation {equation!r} names {len(terms)} operands but {len(shapes)} "
                                   f"were given")
    parsed = [_parse_term(t, equation) for t in terms]
    n_dots = 0
    for (head, dots, tail), shape, term in zip(parsed, shapes, terms):
        spare = len(shape) - len(head) - len(tail)
        if spare < 0 or (spare and not dots):
            raise InvalidArgumentError(f"einsum: operand {term!r} of {equation!r} has {len(head) + len(tail)} labels "
                                       f"for a tensor of shape {list(shape)}; give one label per axis (or '...')")
        n_dots = max(n_dots, spare)
    per_op, sizes = [], {}
    for (head, dots, tail), shape, term in zip(parsed, shapes, terms):
        spare = len(shape) - len(head) - len(tail)
        labels = head + list(range(n_dots - spare, n_dots)) + tail
        per_op.append(labels)
        for label, d in zip(labels, shape):
            known = sizes.get(label)
            if known is None or known == d:
                sizes[label] = d
            elif isinstance(label, int) and 1 in (d, known):  # ellipsis dims broadcast
                sizes[label] = max(d, known)
            else:
                raise InvalidArgumentError(f"einsum: label {label if isinstance(label, str) else '...'!r} of "
                                           f"{equation!r} has size {known} in one operand and {d} in another "
                                           f"(shapes {[list(s) for s in shapes]})")
    if arrow:
        head, dots, tail = _parse_term(rhs, equation)
        out = head + (list(range(n_dots)) if dots else []) + tail
        if len(set(out)) != len(out):
            raise InvalidArgumentError(f"einsum: output {rhs!r} of {equation!r} repeats a label")
        missing = [x for x in out if x not in sizes]
        if missing:
            raise InvalidArgumentError(f"einsum: output labels {missing} of {equation!r} appear in no operand")
    else:  # implicit: the ellipsis dims, then the letters used once, in alphabetical order
        counts = {}
        for labels in per_op:
            for x in labels:
                counts[x] = counts.get(x, 0) + 1
        out = list(range(n_dots)) + sorted(x for x, c in counts.items() if isinstance(x, str) and c == 1)
    return per_op, out, sizes


def _diagonal(x, labels):
    """x with every label that repeats in `labels` reduced to its diagonal (kept at its first place)."""
    while len(set(labels)) != len(labels):
        label = next(x for x in labels if labels.count(x) > 1)
        i = labels.index(label)
        j = labels.index(label, i + 1)
        n = x.shape[i]
        rest = [k for k in range(x.ndim) if k not in (i, j)]
        moved = reshape(transpose(x, rest + [i, j]), [x.shape[k] for k in rest] + [n * n])
        with _device.device(x._device):
            where = constant(np.arange(n, dtype=np.int64) * (n + 1))
        diag = gather(moved, where, axis=len(rest))            # (rest..., n)
        rest_labels = [labels[k] for k in rest]
        place = sum(1 for k in rest if k < i)                    # the diagonal goes where i was
        perm = list(range(place)) + [len(rest)] + list(range(place, len(rest)))
        x, labels = transpose(diag, perm), rest_labels[:place] + [label] + rest_labels[place:]
    return x, labels


def _sum_out(x, labels, keep):
    axes = [k for k, label in enumerate(labels) if label not in keep]
    if not axes:
        return x, labels
    return reduce_sum(x, axis=axes), [label for label in labels if label in keep]


def _squeeze_broadcast(x, labels, other_sizes):
    """Drop size-1 ellipsis axes whose label has a larger size elsewhere: the other operand then owns it."""
    drop = [k for k, label in enumerate(labels) if x.shape[k] == 1 and other_sizes.get(label, 1) > 1]
    if not drop:
        return x, labels
    return (reshape(x, [d for k, d in enumerate(x.shape) if k not in drop]),
            [label for k, label in enumerate(labels) if k not in drop])


def _contract(a, la, b, lb, keep):
    """a (labels la) and b (labels lb) as one tensor over the labels in `keep` (and both operands' labels
    in keep), by one batched matmul: (batch, m, k) @ (batch, k, n)."""
    a, la = _squeeze_broadcast(a, la, dict(zip(lb, b.shape)))
    b, lb = _squeeze_broadcast(b, lb, dict(zip(la, a.shape)))
    a, la = _sum_out(a, la, set(keep) | set(lb))
    b, lb = _sum_out(b, lb, set(keep) | set(la))
    batch = [x for x in la if x in lb and x in keep]
    summed = [x for x in la if x in lb and x not in keep]
    a_free = [x for x in la if x not in lb]
    b_free = [x for x in lb if x not in la]
    size_a, size_b = dict(zip(la, a.shape)), dict(zip(lb, b.shape))

    def dims(sizes, group):
        return math.prod(sizes[x] for x in group)
    a3 = reshape(transpose(a, [la.index(x) for x in batch + a_free + summed]),
                 [dims(size_a, batch), dims(size_a, a_free), dims(size_a, summed)])
    b3 = reshape(transpose(b, [lb.index(x) for x in batch + summed + b_free]),
                 [dims(size_b, batch), dims(size_b, summed), dims(size_b, b_free)])
    out = matmul(a3, b3, transpose_a=False, transpose_b=False)
    labels = batch + a_free + b_free
    return reshape(out, [size_a[x] for x in batch + a_free] + [size_b[x] for x in b_free]), labels


def einsum(equation, *inputs, **kwargs):
    """Einstein summation (tf.einsum): `equation` names each operand's axes by letters ('...' for
    any number of leading, broadcast axes); labels left out of the output (after '->', or all but
    the ones used once, alphabetically, without it) are summed over, repeated ones in an operand
    take its diagonal. Any number of operands, contracted left to right."""
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(kwargs)}")
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if not inputs:
        raise InvalidArgumentError(f"einsum: {equation!r} needs at least one operand")
    xs = operands(*inputs)
    dtypes = {x.dtype for x in xs}
    if len(dtypes) > 1:
        raise InvalidArgumentError(f"einsum: operands have different dtypes "
                                   f"({', '.join(f'{x.dtype.name}{list(x.shape)}' for x in xs)}); cast them to one")
    per_op, out, _ = _labels(equation, [tuple(x.shape) for x in xs])
    terms = [_diagonal(x, labels) for x, labels in zip(xs, per_op)]
    # each label is needed by the output or by an operand still to come
    x, labels = terms[0]
    for k in range(1, len(terms)):
        later = set(out).union(*(set(lab) for _, lab in terms[k + 1:]))
        x, labels = _contract(x, labels, terms[k][0], terms[k][1], later)
    x, labels = _sum_out(x, labels, set(out))
    # broadcast ellipsis dims missing from x entirely (all operands had size 1 there) come back as 1
    for label in out:
        if label not in labels:
            x, labels = reshape(x, list(x.shape) + [1]), labels + [label]
    return transpose(x, [labels.index(label) for label in out])
