"""The tensor layer: values on devices, and what is known of them without their values.

shape.py     TensorShape, TensorSpec, Symbol (a value of a graph being traced)
core.py      Tensor (an immutable device array + dtype + device), AUTOCAST (the mixed-precision scope)
convert.py   host values into Tensors (gf.constant's rules), with no primitive run
variable.py  Variable

Below the ops: the Tensor methods that run ops (operators, indexing, .to) are given to Tensor by
gpuflow/ops/tensor_methods.py.
"""
from .core import AUTOCAST, Tensor  # noqa: F401
from .shape import Symbol, TensorShape, TensorSpec  # noqa: F401
from .variable import Variable  # noqa: F401
