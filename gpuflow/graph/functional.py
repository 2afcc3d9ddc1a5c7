"""TF's functional ops: map_fn, vectorized_map, scan, foldl, foldr, and the multi-way branches case and
switch_case.

The loops run fn once per element along axis 0, which every shape in gpuflow knows: eagerly a Python loop, and
inside a gf.function the same loop unrolled into the graph (one copy of fn's ops per element), so gradients flow
through them as through any op. A long loop inside a gf.function makes a long graph: a vectorized form of fn
(ops on the whole batch) is the fast way there, as in TF. case and switch_case are gf.cond chains: eagerly only
the branch taken runs; inside a gf.function every branch is traced and the one taken runs on each call.
"""
from __future__ import annotations

from .. import nest, ops
from ..errors import InvalidArgumentError
from ..ops._util import host_int
from ..tensor import Tensor, TensorSpec
from .control_flow import _is_symbolic, _truth, cond

__all__ = ["map_fn", "vectorized_map", "scan", "foldl", "foldr", "case", "switch_case"]


def _elements(op, elems):
    """(flat tensors of elems, their common length along axis 0)."""
    flat = [t if isinstance(t, Tensor) else ops.convert_to_tensor(t) for t in nest.flatten(elems)]
    if not flat:
        raise ValueError(f"{op}: elems holds no tensor")
    lengths = {t.shape[0] if t.ndim else None for t in flat}
    if None in lengths or len(lengths) != 1:
        raise InvalidArgumentError(f"{op}: every tensor of elems needs the same length along axis 0, got shapes "
                                   f"{[list(t.shape) for t in flat]}")
    return flat, lengths.pop()


def _stacked(results, signature, elems_flat, structure):
    """The per-element results stacked along a new axis 0 (n = 0: empty tensors of the signature's specs)."""
    if results:
        return nest.map_structure(lambda *parts: ops.stack(list(parts)), *results)
    specs = nest.flatten(signature) if signature is not None else [TensorSpec(t.shape[1:], t.dtype) for t in elems_flat]
    empties = [ops.zeros((0,) + tuple(s.shape), s.dtype) for s in specs]
    return nest.pack_sequence_as(signature if signature is not None else structure, empties)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False, infer_shape=True,
           name=None, fn_output_signature=None):
    """fn applied to each element of elems along axis 0 (elems may be a nest of tensors of one length; fn gets the
    same nest of slices), the results stacked, as tf.map_fn. With no elements the result has
    fn_output_signature's (or dtype's) specs, else elems' own."""
    flat, n = _elements("map_fn", elems)
    signature = fn_output_signature if fn_output_signature is not None else dtype
    if signature is not None and not all(isinstance(s, TensorSpec) for s in nest.flatten(signature)):
        signature = None  # a dtype alone says nothing of the shape: an empty map keeps elems' specs
    rows = [nest.pack_sequence_as(elems, [t[k] for t in flat]) for k in range(n)]
    return _stacked([fn(row) for row in rows], signature, flat, elems)


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """tf.vectorized_map's results, computed as map_fn does (fn once per element); TF vectorizes fn with pfor."""
    return map_fn(fn, elems)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False,
         infer_shape=True, reverse=False, name=None):
    """acc = fn(acc, x) for each element x of elems (along axis 0; from the end with reverse=True), every acc
    stacked, as tf.scan. Without an initializer the first element starts the scan and is the first result."""
    accs = _accumulate("scan", fn, elems, initializer, reverse)
    if not accs:  # nothing scanned: empty tensors shaped like the initializer
        return nest.map_structure(lambda t: ops.zeros((0,) + tuple(ops.convert_to_tensor(t).shape),
                                                      ops.convert_to_tensor(t).dtype), initializer)
    accs = accs[::-1] if reverse else accs
    return nest.map_structure(lambda *parts: ops.stack([ops.convert_to_tensor(p) for p in parts]), *accs)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """acc = fn(acc, x) over the elements of elems from the first, as tf.foldl; returns the last acc. Without an
    initializer the first element starts."""
    accs = _accumulate("foldl", fn, elems, initializer, reverse=False)
    return accs[-1] if accs else initializer


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """foldl from the last element, as tf.foldr."""
    accs = _accumulate("foldr", fn, elems, initializer, reverse=True)
    return accs[-1] if accs else initializer


def _accumulate(op, fn, elems, initializer, reverse):
    """The acc after each element of acc = fn(acc, element), in the order taken; without an initializer the first
    element is the first acc."""
    flat, n = _elements(op, elems)
    order = range(n - 1, -1, -1) if reverse else range(n)
    rows = [nest.pack_sequence_as(elems, [t[k] for t in flat]) for k in order]
    if initializer is None:
        if not rows:
            raise InvalidArgumentError(f"{op}: elems is empty and there is no initializer to start from")
        accs, rows = [rows[0]], rows[1:]
    else:
        accs = []
    acc = accs[0] if accs else initializer
    for row in rows:
        acc = fn(acc, row)
        accs.append(acc)
    return accs


def switch_case(branch_index, branch_fns, default=None, name=None):
    """branch_fns[branch_index](), as tf.switch_case: branch_fns is a list of callables, or a dict / list of
    (int, callable) pairs; an index that names no branch runs `default` (the last branch when not given)."""
    pairs = sorted(branch_fns.items()) if isinstance(branch_fns, dict) else \
        list(branch_fns) if branch_fns and isinstance(branch_fns[0], (tuple, list)) else list(enumerate(branch_fns))
    if not pairs or not all(isinstance(k, int) and callable(f) for k, f in pairs):
        raise TypeError("switch_case: branch_fns must be a non-empty list of callables, or of (int, callable) pairs, "
                        "or a dict of int to callable")
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError(f"switch_case: branch keys repeat: {[k for k, _ in pairs]}")
    default = pairs[-1][1] if default is None else default
    if not _is_symbolic(branch_index):
        index = host_int(branch_index)
        return dict(pairs).get(index, default)()
    if branch_index.shape != () or not branch_index.dtype.is_integer:
        raise InvalidArgumentError(f"switch_case: branch_index must be a scalar integer tensor, got "
                                   f"{branch_index.dtype.name}{list(branch_index.shape)}")
    return _chain([(branch_index == k, f) for k, f in pairs], default)


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name=None):
    """The fn of the first pair whose predicate is true, else default(), as tf.case (pairs may be a dict of
    pred: fn). Without a default the last pair's fn runs when no predicate is true. exclusive=True checks, for
    predicates known now (not inside a gf.function), that at most one is true."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if not pairs or not all(isinstance(p, (tuple, list)) and len(p) == 2 and callable(p[1]) for p in pairs):
        raise TypeError("case: pred_fn_pairs must be a non-empty list of (predicate, callable) pairs or a dict")
    if default is None:
        default = pairs[-1][1]
    if not any(_is_symbolic(p) for p, _ in pairs):
        truths = [_truth(p) for p, _ in pairs]
        if exclusive and sum(truths) > 1:
            raise InvalidArgumentError(f"case: exclusive=True but predicates {[k for k, t in enumerate(truths) if t]} "
                                       f"are all true")
        return next((f for (_, f), t in zip(pairs, truths) if t), default)()
    return _chain(pairs, default)


def _chain(pairs, default):
    """cond(p0, f0, lambda: cond(p1, f1, ... default)): the first true predicate's branch."""
    (pred, fn), rest = pairs[0], pairs[1:]
    return cond(pred, fn, (lambda: _chain(rest, default)) if rest else default)
