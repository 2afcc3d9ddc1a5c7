"""Abstract evaluation: the output shapes and dtypes of a Python function of tensors, without running it.

The function runs once (twice when some dims are unknown) under a throwaway graph trace, with symbolic
placeholders standing for its inputs: every op answers with its primitive's `infer`, no kernel runs and
no state changes. Keras' functional construction (a layer called on KerasTensors) and Dataset.map's
element_spec use it. Unknown dims are given as 1, then as 2; an output dim that differs between the two
follows them, so it is unknown (None) too.
"""
from __future__ import annotations

from .. import devices as _device
from .. import nest
from ..tensor import TensorSpec
from .ir import Graph
from .trace import GraphTrace


def abstract_specs(fn, structure, spec_of_leaf):
    """TensorSpecs of fn(structure with each leaf that `spec_of_leaf` maps to a spec replaced by a symbolic
    tensor of that spec); None where fn returns None. Masks (`_keras_mask`) are not followed here."""
    leaves = nest.flatten(structure)
    specs = [spec_of_leaf(x) for x in leaves]
    unknown = any(d is None for s in specs if s is not None for d in s.shape)
    runs = []
    for fill in ((1, 2) if unknown else (1,)):
        with GraphTrace(Graph("abstract"), allow_new_variables=True, owner="shape inference") as trace:
            device = _device.current()
            values = [x if s is None else trace.placeholder(tuple(fill if d is None else d for d in s.shape),
                                                              s.dtype, device)
                      for x, s in zip(leaves, specs)]
            runs.append(fn(nest.pack_sequence_as(structure, values)))
    if runs[0] is None:
        return None
    for other in runs[1:]:
        nest.assert_same_structure(runs[0], other)

    def spec(*outs):
        if outs[0] is None:
            return None
        shapes = [tuple(o.shape) for o in outs]
        return TensorSpec([d if all(s[i] == d for s in shapes) else None for i, d in enumerate(shapes[0])],
                          outs[0].dtype)
    return nest.map_structure(spec, *runs)
