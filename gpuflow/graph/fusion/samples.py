"""Generated kernels that exercise every path of the code generator, for `python -m gpuflow.kernels check`.

The shipped kernels are checked with NVRTC file by file; generated kernels exist only once a graph is traced.
These samples stand for them: every elementwise op of the functor table in each dtype family, casts, selects,
the sparse cross-entropy gradient's row-indexed inputs, each reduction with an epilogue, and a multi-tensor
update of every optimizer rule in every float dtype. The test suite runs the same templates on sim.
"""
from __future__ import annotations

from ... import dtypes
from ...backend.cuda.elementwise import BINARY, BOOL_RESULT, UNARY
from ...backend.cuda.optim import _KERNELS
from ...backend.optim_rules import RULES
from .codegen import REDUCE_OPS
from .kernel import FusedKernel
from .multi_update import MultiUpdate
from .program import Program, Ref, Step

FLOATS = (dtypes.float32, dtypes.float16, dtypes.bfloat16, dtypes.float64)
INTEGER_UNARY = ("negative", "abs", "sign", "square", "relu")
INTEGER_BINARY = ("add", "subtract", "multiply", "floordiv", "mod", "pow", "maximum", "minimum", "equal", "less")
UNSIGNED_UNARY = ("square", "relu")
UNSIGNED_BINARY = tuple(op for op in INTEGER_BINARY if op != "pow")
BOOL_UNARY = ("logical_not",)
BOOL_BINARY = ("logical_and", "logical_or", "equal", "not_equal")


def _map_program(dtype, unary, binary) -> Program:
    shape = (4, 5)
    p = Program(shape=shape, inputs=[(shape, dtype), ((5,), dtype), ((4, 1), dtypes.bool)])
    x, b, c = Ref("input", 0), Ref("input", 1), Ref("input", 2)
    for name in unary:
        p.steps.append(Step(name, (x,), {"alpha": 0.2} if name in ("leaky_relu", "elu") else {},
                            dtypes.bool if name in BOOL_RESULT else dtype, shape, "map"))
    for name in binary:
        p.steps.append(Step(name, (x, b), {}, dtypes.bool if name in BOOL_RESULT else dtype, shape, "map"))
    p.steps.append(Step("select", (c, x, b), {}, dtype, shape, "map"))
    for target in (dtypes.float32, dtypes.int32, dtypes.bool, dtypes.float16):
        p.steps.append(Step("cast", (x,), {"dtype": target}, target, shape, "map"))
    p.outputs = list(range(len(p.steps)))
    return p


def _reduce_program(op, dtype, keepdims) -> Program:
    shape = (6, 2000)
    p = Program(shape=shape, inputs=[(shape, dtype), ((), dtype)])
    x, s = Ref("input", 0), Ref("input", 1)
    out = (6, 1) if keepdims else (6,)
    p.steps = [Step("multiply", (x, s), {}, dtype, shape, "map"),
               Step(op, (Ref("value", 0),), {"axes": (1,), "keepdims": keepdims}, dtype, out, "reduce"),
               Step("add", (Ref("value", 1), s), {}, dtype, out, "epi")]
    p.outputs = [0, 1, 2]
    return p


def _xent_grad_program(dtype, label_dtype) -> Program:
    shape = (8, 10)
    p = Program(shape=shape, inputs=[((8,), dtype), (shape, dtype), ((8,), label_dtype)])
    p.steps = [Step("sparse_softmax_xent_grad", (Ref("input", 0, "rows"), Ref("input", 1), Ref("input", 2, "rows")),
                    {}, dtype, shape, "map"),
               Step("reduce_sum", (Ref("value", 0),), {"axes": (0,), "keepdims": False}, dtype, (10,), "reduce")]
    p.outputs = [0, 1]
    return p


def _hyper(rule) -> dict:
    values = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "weight_decay": 0.004, "momentum": 0.9, "rho": 0.9,
              "nesterov": True}
    return {name: values[name] for name in RULES[rule][2]}


def sample_kernels() -> list:
    """[(kernel name, source)] of every sample."""
    prims = []
    for dtype in FLOATS:
        prims.append(FusedKernel(_map_program(dtype, [u for u in UNARY if u != "logical_not"],
                                              [b for b in BINARY if b not in ("logical_and", "logical_or")])))
        for op in REDUCE_OPS:
            prims.append(FusedKernel(_reduce_program(op, dtype, keepdims=op == "reduce_max")))
        for labels in (dtypes.int32, dtypes.int64):
            prims.append(FusedKernel(_xent_grad_program(dtype, labels)))
        for rule in _KERNELS:
            prims.append(MultiUpdate(rule, _hyper(rule), dtype, [10, 7, 1]))
    for dtype in (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint32):
        signed = dtype.kind == "i"  # the ops take unsigned integers where TF's do (no negative, abs, sign, pow)
        prims.append(FusedKernel(_map_program(dtype, INTEGER_UNARY if signed else UNSIGNED_UNARY,
                                              INTEGER_BINARY if signed else UNSIGNED_BINARY)))
        prims.append(FusedKernel(_reduce_program("reduce_sum", dtype, keepdims=False)))
    prims.append(FusedKernel(_map_program(dtypes.bool, BOOL_UNARY, BOOL_BINARY)))
    return [(prim.kernel_name, prim.source) for prim in prims]
