"""Abstract evaluation: shapes and dtypes from the primitives' infer rules, with no kernel run and no data read."""
import numpy as np

import gpuflow as gf
from gpuflow.tensor import Symbol


def test_dataset_map_element_spec_is_traced_not_run():
    seen = []

    def fn(x, y):
        seen.append(type(x._data) is Symbol)
        return gf.cast(x, gf.float64) * 2.0, gf.one_hot(y, 10)

    ds = gf.data.Dataset.from_tensor_slices((np.zeros((7, 3), np.float32), np.zeros(7, np.int32))).batch(2)
    spec = ds.map(fn).element_spec
    assert spec == (gf.TensorSpec([None, 3], gf.float64), gf.TensorSpec([None, 10], gf.float32))
    assert seen and all(seen)  # only symbolic tensors reached the function


def test_dataset_map_of_a_host_function_still_gets_its_spec():
    ds = gf.data.Dataset.range(4).map(lambda i: np.float32(i.numpy()) * 2)  # needs a value: not traceable
    assert ds.element_spec == gf.TensorSpec([], gf.float32)
    assert [float(x) for x in ds] == [0.0, 2.0, 4.0, 6.0]


def test_functional_construction_calls_layers_on_symbolic_tensors():
    seen = []

    class Probe(gf.keras.layers.Layer):
        def call(self, x):
            seen.append(type(x._data) is Symbol)
            return gf.nn.relu(x) * 2.0

    inputs = gf.keras.Input(shape=(5,))
    outputs = Probe()(gf.keras.layers.Dense(4)(inputs))
    model = gf.keras.Model(inputs, outputs)
    assert tuple(model.outputs[0].shape) == (None, 4) and seen and all(seen)
    assert model(np.ones((3, 5), np.float32)).shape == (3, 4)
