"""TF's graph-ordering helpers (no_op, group, control_dependencies: no-ops, since gpuflow runs ops in program
order), gf.dtypes.cast, gf.errors.OutOfRangeError, and the shape helpers shape_n, broadcast_static_shape and
broadcast_dynamic_shape against NumPy's broadcasting rule, on every device and inside gf.function."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from tests.harness import rand

# Pairs that broadcast, and what NumPy makes of them; then pairs that do not.
BROADCASTING = [((2, 3), (3,)), ((4, 1, 5), (3, 1)), ((), (2, 2)), ((1,), (0,)), ((2, 0, 3), (1, 3)), ((5,), (5,))]
INCOMPATIBLE = [((2, 3), (4,)), ((2, 1, 3), (4, 2)), ((0,), (2,))]


# ---- no_op, group, control_dependencies ---------------------------------------------------------------

def test_no_op_and_group_return_none(device):
    x, v = gf.constant(rand((2, 3))), gf.Variable(rand((3,), seed=1))
    assert gf.no_op() is None and gf.no_op(name="n") is None
    assert gf.group() is None
    assert gf.group(x, v.assign_add(v), None, name="g") is None
    assert gf.group(*[x, [v, (None, x)]]) is None  # nested lists are flattened, as TF does
    np.testing.assert_allclose(v.numpy(), 2 * rand((3,), seed=1))  # assign_add ran, before group saw it


def test_control_dependencies_is_a_context_that_keeps_program_order(device):
    v = gf.Variable(0.0)
    for control_inputs in (None, [], [v.assign(1.0)], [v.assign_add(1.0), None, gf.no_op()], (gf.constant(1),)):
        with gf.control_dependencies(control_inputs) as entered:
            assert entered is None
            out = v * 2.0
    assert float(out) == 4.0  # v was 2 when the block ran
    calls = []
    with gf.control_dependencies([lambda: calls.append(1)]):  # TF's eager mode calls a callable
        pass
    assert calls == [1]


def test_inside_a_function_the_helpers_are_no_ops_too():
    v = gf.Variable(1.0)

    @gf.function
    def step(x):
        update = v.assign_add(x)
        assert gf.no_op() is None and gf.group(update, x) is None
        with gf.control_dependencies([update, gf.group(update)]):
            return v.read_value() * 10.0

    assert float(step(gf.constant(2.0))) == 30.0
    assert float(step(gf.constant(2.0))) == 50.0
    assert float(v) == 5.0


def test_bad_control_inputs_name_the_function():
    with pytest.raises(TypeError, match=r"control_dependencies: control_inputs must be None or a list of tensors, "
                                        r"got Tensor; wrap a single tensor in a list"):
        gf.control_dependencies(gf.constant(1.0))
    with pytest.raises(TypeError, match="control_dependencies: inputs must be tensors, variables or None .*got int"):
        gf.control_dependencies([gf.constant(1.0), 3])
    with pytest.raises(TypeError, match="group: inputs must be tensors, variables or None .*got str"):
        gf.group(gf.constant(1.0), "op")
    with pytest.raises(TypeError, match="group: unexpected keyword argument"):
        gf.group(gf.constant(1.0), control_inputs=[])


# ---- gf.dtypes.cast, gf.errors.OutOfRangeError -----------------------------------------------------------

def test_dtypes_cast_is_cast(device):
    assert gf.dtypes.cast is gf.cast
    x = rand((3, 4), low=-5, high=5)
    out = gf.dtypes.cast(gf.constant(x), gf.int32)
    assert out.dtype == gf.int32 and out.device.endswith(f"{device}:0")
    np.testing.assert_array_equal(out.numpy(), x.astype(np.int32))


def test_out_of_range_error_is_a_gpuflow_error():
    assert issubclass(gf.errors.OutOfRangeError, gf.errors.GpuflowError)
    with pytest.raises(gf.errors.OutOfRangeError, match="End of sequence"):
        raise gf.errors.OutOfRangeError("End of sequence")
    it = iter(gf.data.Dataset.range(1))
    next(it)
    with pytest.raises(StopIteration):  # a dataset still ends the Python way
        next(it)


# ---- shape_n ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("out_type", [gf.int32, gf.int64])
def test_shape_n(device, out_type):
    shapes = [(2, 3), (), (4, 0, 1), (5,)]
    xs = [gf.constant(rand(s, seed=i)) for i, s in enumerate(shapes)]
    out = gf.shape_n(xs, out_type=out_type)
    assert isinstance(out, list) and len(out) == len(shapes)
    for t, s in zip(out, shapes):
        assert t.dtype == out_type and t.device.endswith(f"{device}:0")
        np.testing.assert_array_equal(t.numpy(), np.array(s, np.int64))
    assert gf.shape_n([]) == []


def test_shape_n_needs_a_list():
    with pytest.raises(TypeError, match="shape_n: input must be a list of tensors, got Tensor; for one tensor use "
                                        r"gf.shape\(x\)"):
        gf.shape_n(gf.constant([1.0]))


# ---- broadcast_static_shape / broadcast_dynamic_shape ------------------------------------------------------

@pytest.mark.parametrize("x,y", BROADCASTING)
def test_broadcast_static_shape_is_numpys_rule(x, y):
    for a, b in ((x, y), (y, x)):
        out = gf.broadcast_static_shape(gf.TensorShape(a), gf.TensorShape(b))
        assert isinstance(out, gf.TensorShape) and out == np.broadcast_shapes(a, b)


def test_broadcast_static_shape_with_unknown_dims():
    shape = gf.TensorShape
    assert gf.broadcast_static_shape(shape([None, 1, 3]), shape([4, None])) == (None, 4, 3)
    assert gf.broadcast_static_shape(shape([None]), shape([1])) == (None,)  # TF: unknown unless a size > 1 says
    assert gf.broadcast_static_shape(shape([None, 2]), shape([7, None])) == (7, 2)


@pytest.mark.parametrize("x,y", INCOMPATIBLE)
def test_broadcast_static_shape_raises_value_error(x, y):
    with pytest.raises(ValueError, match=r"broadcast_static_shape: incompatible shapes \(.*\) and \(.*\)"):
        gf.broadcast_static_shape(gf.TensorShape(x), gf.TensorShape(y))


@pytest.mark.parametrize("dtype", [gf.int32, gf.int64])
@pytest.mark.parametrize("x,y", BROADCASTING)
def test_broadcast_dynamic_shape_is_numpys_rule(device, x, y, dtype):
    for a, b in ((x, y), (y, x)):
        out = gf.broadcast_dynamic_shape(gf.constant(np.array(a, dtype.np)), gf.constant(np.array(b, dtype.np)))
        assert out.dtype == dtype and out.shape == (len(np.broadcast_shapes(a, b)),)
        assert out.device.endswith(f"{device}:0")
        np.testing.assert_array_equal(out.numpy(), np.broadcast_shapes(a, b))


def test_broadcast_dynamic_shape_takes_lists_and_gf_shape(device):
    x, y = gf.constant(rand((4, 1, 3))), gf.constant(rand((5, 1), seed=1))
    out = gf.broadcast_dynamic_shape(gf.shape(x), gf.shape(y))
    np.testing.assert_array_equal(out.numpy(), [4, 5, 3])
    out = gf.broadcast_dynamic_shape([2, 1], [3])
    assert out.dtype == gf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 3])
    np.testing.assert_array_equal(gf.broadcast_dynamic_shape([], [3, 2]).numpy(), [3, 2])

    @gf.function
    def f(a, b):
        return gf.broadcast_to(a, gf.broadcast_dynamic_shape(gf.shape(a), gf.shape(b))) + b

    np.testing.assert_allclose(f(x, y).numpy(), x.numpy() + y.numpy(), rtol=1e-6)


@pytest.mark.parametrize("x,y", INCOMPATIBLE)
def test_broadcast_dynamic_shape_names_both_shapes(x, y):
    with pytest.raises(InvalidArgumentError, match=rf"broadcast_dynamic_shape: incompatible shapes "
                                                   rf"\[{', '.join(map(str, x))}\] and \[{', '.join(map(str, y))}\]"):
        gf.broadcast_dynamic_shape(gf.constant(np.array(x, np.int32)), gf.constant(np.array(y, np.int32)))


def test_broadcast_dynamic_shape_bad_inputs():
    with pytest.raises(InvalidArgumentError, match="shape_x is int32 and shape_y is int64; give both one dtype"):
        gf.broadcast_dynamic_shape(gf.constant([2, 3]), gf.constant([3], dtype=gf.int64))
    with pytest.raises(InvalidArgumentError, match=r"shape_y must be a 1-D int32 or int64 shape tensor, got "
                                                   r"float32\[2\]"):
        gf.broadcast_dynamic_shape([2, 3], gf.constant([1.0, 3.0]))
    with pytest.raises(InvalidArgumentError, match=r"shape_x must be a 1-D .* got int32\[1, 2\]"):
        gf.broadcast_dynamic_shape([[2, 3]], [3])
