"""Tensors, variables, dtypes, devices and the dispatch point's checks."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError


def test_constant_dtype_inference_follows_tf():
    assert gf.constant(1.5).dtype == gf.float32
    assert gf.constant([1, 2]).dtype == gf.int32
    assert gf.constant(2**40).dtype == gf.int64
    assert gf.constant(True).dtype == gf.bool
    assert gf.constant(np.array([1.0])).dtype == gf.float64
    assert gf.constant(np.int64(3)).dtype == gf.int64
    assert gf.constant([1, 2], dtype=gf.bfloat16).numpy().dtype.name == "bfloat16"


def test_constant_rejects_lossy_and_ragged_values():
    with pytest.raises(InvalidArgumentError, match="fractions"):
        gf.constant([1.5], dtype=gf.int32)
    with pytest.raises(InvalidArgumentError, match="rectangular"):
        gf.constant([[1, 2], [3]])


def test_constant_with_shape_broadcasts_a_scalar_and_checks_sizes():
    np.testing.assert_array_equal(gf.constant(7, shape=(2, 2)).numpy(), np.full((2, 2), 7))
    with pytest.raises(InvalidArgumentError, match="cannot fill"):
        gf.constant([1, 2, 3], shape=(2, 2))


def test_repr_shows_values_shape_dtype_and_device():
    text = repr(gf.constant([[1.0, 2.0]]))
    assert text.startswith("<gf.Tensor: shape=(1, 2), dtype=float32, device=cpu:0, numpy=")
    assert "1., 2." in text


def test_shape_is_a_tensorshape():
    t = gf.zeros([2, 3])
    assert t.shape == (2, 3) and t.shape.as_list() == [2, 3] and t.shape.rank == 2
    assert t.shape.num_elements() == 6 and t.shape[1:] == gf.TensorShape([3])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int32", "int64", "bool"])
def test_every_dtype_round_trips(device, dtype):
    values = np.array([[0, 1, 2], [3, 4, 5]]).astype(gf.as_dtype(dtype).np)
    t = gf.constant(values)
    assert t.dtype.name == dtype and t.device == f"{device}:0"
    np.testing.assert_array_equal(t.numpy(), values)


def test_python_operators(device):
    x = gf.constant([1.0, -2.0, 3.0])
    np.testing.assert_allclose((2 * x + 1).numpy(), [3, -3, 7])
    np.testing.assert_allclose((1 - x).numpy(), [0, 3, -2])
    np.testing.assert_allclose((x / 2).numpy(), [0.5, -1, 1.5])
    np.testing.assert_allclose((-x).numpy(), [-1, 2, -3])
    np.testing.assert_allclose(abs(x).numpy(), [1, 2, 3])
    np.testing.assert_allclose((x ** 2).numpy(), [1, 4, 9])
    np.testing.assert_array_equal((x > 0).numpy(), [True, False, True])
    np.testing.assert_array_equal(((x > 0) & (x < 2)).numpy(), [True, False, False])
    np.testing.assert_array_equal((~(x > 0)).numpy(), [False, True, False])
    m = gf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose((m @ m).numpy(), [[7, 10], [15, 22]])
    assert float(gf.reduce_sum(x)) == 2.0 and int(gf.constant(3)) == 3 and len(m) == 2
    assert [r.shape for r in m] == [(2,), (2,)]


def test_numpy_interop_and_no_pickling():
    x = gf.constant([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(x), [1, 2])
    np.testing.assert_allclose((np.float32(2) * x).numpy(), [2, 4])
    import pickle
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(x)


def test_mixing_dtypes_is_an_error_naming_the_op_and_dtypes():
    with pytest.raises(InvalidArgumentError, match=r"add: .*float32\[2\].*int32\[2\].*gf.cast"):
        gf.add(gf.constant([1.0, 2.0]), gf.constant([1, 2]))


def test_bad_broadcast_names_op_and_shapes():
    with pytest.raises(InvalidArgumentError, match=r"multiply: shapes \(2, 3\) and \(4,\)"):
        gf.multiply(gf.zeros([2, 3]), gf.zeros([4]))


def test_mixing_devices_is_an_error_that_says_how_to_copy():
    a = gf.constant([1.0])
    with gf.device("sim"):
        b = gf.constant([1.0])
    with pytest.raises(InvalidArgumentError, match=r"different devices.*cpu:0.*sim:0.*\.to\("):
        a + b


def test_copies_happen_only_when_asked():
    a = gf.constant([1.0, 2.0])
    with gf.device("sim"):
        b = gf.identity(a)
    assert b.device == "sim:0" and a.device == "cpu:0"
    np.testing.assert_array_equal(b.to("cpu").numpy(), [1.0, 2.0])


def test_gradient_flows_back_across_a_copy():
    a = gf.Variable([1.0, 2.0])
    with gf.GradientTape() as tape:
        y = gf.reduce_sum(a.to("sim") * 3.0)
    g = tape.gradient(y, a)
    assert g.device == "cpu:0"
    np.testing.assert_allclose(g.numpy(), [3, 3])


def test_device_scope_and_parsing():
    with gf.device("/device:CPU:0"):
        assert gf.zeros([1]).device == "cpu:0"
    with pytest.raises(ValueError, match="unknown device"):
        with gf.device("tpu"):
            pass


def test_variable_assign_family():
    v = gf.Variable([1.0, 2.0], name="v")
    v.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(gf.constant([0.5, 0.5]))
    np.testing.assert_allclose(v.numpy(), [3.5, 4.5])
    assert v.trainable and v.name == "v"
    with pytest.raises(ValueError, match="shape"):
        v.assign([1.0])
    assert "gf.Variable 'v'" in repr(v)


def test_variable_does_not_alias_its_initial_value():
    t = gf.constant([1.0])
    v = gf.Variable(t)
    v.assign([5.0])
    assert t.numpy()[0] == 1.0


def test_numpy_integers_keep_their_dtype_and_uint16_widens_losslessly():
    assert gf.constant(np.array([0, 255], np.uint8)).dtype == gf.uint8
    assert gf.constant(np.array([-3], np.int16)).numpy().tolist() == [-3]
    assert gf.constant(np.array([2**32 - 1], np.uint32)).dtype == gf.uint32
    assert gf.constant(np.array([65535], np.uint16)).dtype == gf.int32  # no uint16 dtype (see gf.DType)


def test_integer_mean_truncates_toward_zero_like_tf():
    assert int(gf.reduce_mean(gf.constant([-7, 0]))) == -3
    assert int(gf.reduce_mean(gf.constant([7, 0]))) == 3


def test_assign_then_update_leaves_the_assigned_tensor_alone():
    t = gf.constant([1.0, 2.0])
    v = gf.Variable([0.0, 0.0])
    v.assign(t)
    v.assign_add([1.0, 1.0])
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])


def test_assign_add_does_not_broadcast_into_a_variable():
    v = gf.Variable(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="shapes must be equal"):
        v.assign_add(gf.ones((3,)))
    v.assign_sub(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(v.numpy(), -np.ones((2, 3)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_mean_is_computed_in_float32(device, dtype):
    x = gf.constant(np.full((70000,), 0.5, np.float32), dtype=dtype)
    assert float(gf.reduce_mean(x)) == 0.5
    assert gf.reduce_mean(x).dtype.name == dtype
    pairs = gf.constant(np.tile(np.array([0, 1], np.float32), 35000), dtype=dtype)
    assert float(gf.math.reduce_variance(pairs)) == 0.25
