"""gf.train.Checkpoint, CheckpointManager and latest_checkpoint, as tf.train's: what is saved, resuming training
bit for bit, deferred restoration into objects built later, keeping the latest few, and clear errors."""
from __future__ import annotations

import os

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.train.checkpoint import _items

keras = gf.keras


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((64, 6)).astype(np.float32), rng.integers(0, 3, 64).astype(np.int32)


def _model(seed, input_shape=True):
    keras.utils.set_random_seed(seed)
    layers = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    model = keras.Sequential(([keras.Input((6,))] if input_shape else []) + layers)
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _fit(model, epochs=2):
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, shuffle=False)


def test_what_a_checkpoint_saves_and_its_keys(tmp_path):
    with gf.device("cpu"):
        model = _model(0)
        _fit(model, 1)
        ckpt = gf.train.Checkpoint(step=gf.Variable(7), optimizer=model.optimizer, net=model)
        keys = [k for k, _ in _items(ckpt)]
    assert keys[:7] == ["save_counter", "net/dense/kernel", "net/dense/bias", "net/dense_1/kernel", "net/dense_1/bias",
                        "optimizer/iterations", "optimizer/learning_rate"]
    assert "step" in keys and "optimizer/slots/net/dense_1/bias/v" in keys and len(keys) == len(set(keys)) == 16
    path = ckpt.save(tmp_path / "ckpt")
    assert path == str(tmp_path / "ckpt-1") and sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-1.safetensors"]
    assert (tmp_path / "checkpoint").read_text() == ('model_checkpoint_path: "ckpt-1"\n'
                                                     'all_model_checkpoint_paths: "ckpt-1"\n')
    assert gf.train.latest_checkpoint(tmp_path) == path


def test_training_resumed_from_a_checkpoint_goes_on_bit_for_bit(tmp_path):
    with gf.device("cpu"):
        model = _model(0)
        _fit(model)
        step = gf.Variable(2, dtype=gf.int64)
        path = gf.train.Checkpoint(step=step, optimizer=model.optimizer, net=model).save(tmp_path / "ckpt")
        _fit(model)
        expected = [w.numpy() for w in model.weights]

        other = _model(5)  # other initial weights, a fresh optimizer without slots
        other_step = gf.Variable(0, dtype=gf.int64)
        status = gf.train.Checkpoint(step=other_step, optimizer=other.optimizer, net=other).restore(path)
        assert int(other_step.numpy()) == 2 and int(other.optimizer.iterations.numpy()) == 8
        with pytest.raises(AssertionError, match="have no variable yet: optimizer/slots/net/dense/bias/m"):
            status.assert_consumed()  # the slots are made by the first step
        _fit(other)
        status.assert_consumed()
    for a, b in zip([w.numpy() for w in other.weights], expected):
        np.testing.assert_array_equal(a, b)


def test_values_wait_for_a_model_built_later(tmp_path):
    """A Sequential without an input shape builds inside fit's first (traced) step: its weights and the
    optimizer's slots get their saved values then, and training goes on as if never stopped."""
    with gf.device("cpu"):
        model = _model(1)
        _fit(model)
        path = gf.train.Checkpoint(model=model, opt=model.optimizer).write(tmp_path / "snap")
        _fit(model, 1)
        expected = [w.numpy() for w in model.weights]

        later = _model(9, input_shape=False)
        status = gf.train.Checkpoint(model=later, opt=later.optimizer).read(path)
        assert not later.weights
        status.assert_existing_objects_matched().assert_nontrivial_match()  # (only the optimizer's so far)
        _fit(later, 1)
        status.assert_consumed()
    for a, b in zip([w.numpy() for w in later.weights], expected):
        np.testing.assert_array_equal(a, b)


def test_modules_nested_checkpoints_and_attributes(tmp_path):
    class Block(gf.Module):
        def __init__(self):
            super().__init__()
            self.w = gf.Variable(np.arange(6.0).reshape(2, 3))
            self.parts = [gf.Variable([1.0, 2.0]), {"b": gf.Variable(3.0)}]

    block, extra = Block(), gf.Variable([4, 5])
    inner = gf.train.Checkpoint(block=block)
    ckpt = gf.train.Checkpoint(inner=inner)
    ckpt.extra = extra  # tracked when set as an attribute, as in TF
    assert [k for k, _ in _items(ckpt)] == ["save_counter", "extra", "inner/block/parts/0", "inner/block/parts/1/b",
                                            "inner/block/w"]
    path = ckpt.write(tmp_path / "m")
    for v in (block.w, block.parts[0], block.parts[1]["b"]):
        v.assign(v * 0 - 1)
    extra.assign([0, 0])
    ckpt.read(path).assert_consumed()
    np.testing.assert_array_equal(block.w.numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(block.parts[1]["b"].numpy(), 3.0)
    np.testing.assert_array_equal(extra.numpy(), [4, 5])


def test_the_save_counter_goes_on_after_a_restore(tmp_path):
    v = gf.Variable(1.0)
    first = gf.train.Checkpoint(v=v)
    first.save(tmp_path / "c")
    path = first.save(tmp_path / "c")
    assert path.endswith("c-2")
    second = gf.train.Checkpoint(v=gf.Variable(0.0))
    second.restore(path)
    assert second.save(tmp_path / "c").endswith("c-3")


def test_a_loss_scale_optimizer_saves_its_scale_and_the_inner_state(tmp_path):
    with gf.device("cpu"):
        keras.utils.set_random_seed(2)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
        opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.1, momentum=0.9))
        model.compile(opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        _fit(model, 1)
        keys = [k for k, _ in _items(gf.train.Checkpoint(opt=opt, model=model))]
    assert {"opt/dynamic_scale", "opt/step_counter", "opt/inner_optimizer/iterations",
            "opt/inner_optimizer/slots/model/dense/kernel/momentum"} <= set(keys)


def test_a_manager_keeps_the_latest_and_a_new_one_goes_on_from_them(tmp_path):
    v = gf.Variable(0.0)
    ckpt = gf.train.Checkpoint(v=v)
    manager = gf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.restore_or_initialize() is None
    paths = []
    for i in range(3):
        v.assign(float(i))
        paths.append(manager.save())
    assert [os.path.basename(p) for p in paths] == ["ckpt-1", "ckpt-2", "ckpt-3"]
    assert manager.checkpoints == paths[1:] and manager.latest_checkpoint == paths[2]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-2.safetensors", "ckpt-3.safetensors"]
    assert gf.train.latest_checkpoint(tmp_path) == paths[2]

    restarted = gf.train.CheckpointManager(gf.train.Checkpoint(v=v), tmp_path, max_to_keep=2)
    assert restarted.checkpoints == paths[1:]
    v.assign(-1.0)
    assert restarted.restore_or_initialize() == paths[2] and float(v.numpy()) == 2.0
    assert os.path.basename(restarted.save(checkpoint_number=100)) == "ckpt-100"
    assert [os.path.basename(p) for p in restarted.checkpoints] == ["ckpt-3", "ckpt-100"]


def test_a_manager_saves_every_checkpoint_interval_steps(tmp_path):
    step = gf.Variable(0, dtype=gf.int64)
    manager = gf.train.CheckpointManager(gf.train.Checkpoint(step=step), tmp_path, max_to_keep=None,
                                         step_counter=step, checkpoint_interval=3)
    saved = []
    for _ in range(7):
        saved.append(manager.save() is not None)
        step.assign_add(1)
    assert saved == [True, False, False, True, False, False, True]
    assert manager.save(check_interval=False) is not None and len(manager.checkpoints) == 4


def test_restore_or_initialize_calls_init_fn_when_there_is_nothing(tmp_path):
    calls = []
    manager = gf.train.CheckpointManager(gf.train.Checkpoint(v=gf.Variable(1.0)), tmp_path, max_to_keep=1,
                                         init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]


def test_latest_checkpoint_of_a_directory_without_one(tmp_path):
    assert gf.train.latest_checkpoint(tmp_path) is None
    assert gf.train.latest_checkpoint(tmp_path / "missing") is None
    path = gf.train.Checkpoint(v=gf.Variable(1.0)).save(tmp_path / "c")
    os.remove(path + ".safetensors")
    assert gf.train.latest_checkpoint(tmp_path) is None


def test_restore_none_restores_nothing():
    v = gf.Variable(3.0)
    gf.train.Checkpoint(v=v).restore(None).expect_partial()
    assert float(v.numpy()) == 3.0


@pytest.mark.parametrize("make, error, message", [
    (lambda: gf.train.Checkpoint(layers=[1, 2]), TypeError, "layers=.* is not something a checkpoint can track"),
    (lambda: gf.train.CheckpointManager(gf.train.Checkpoint(), "d", max_to_keep=0), ValueError,
     "max_to_keep must be an int >= 1 or None"),
    (lambda: gf.train.CheckpointManager(object(), "d", max_to_keep=1), TypeError, "must be a gf.train.Checkpoint"),
    (lambda: gf.train.CheckpointManager(gf.train.Checkpoint(), "d", max_to_keep=1, checkpoint_interval=2),
     ValueError, "checkpoint_interval needs a step_counter"),
])
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_restoring_what_is_not_there_or_not_a_checkpoint(tmp_path):
    ckpt = gf.train.Checkpoint(v=gf.Variable([1.0, 2.0]))
    with pytest.raises(gf.errors.NotFoundError, match="no checkpoint at .*nothing"):
        ckpt.restore(tmp_path / "nothing")
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="junk.safetensors is not a checkpoint"):
        ckpt.restore(tmp_path / "junk")


def test_a_value_of_another_shape_is_refused_naming_it(tmp_path):
    path = gf.train.Checkpoint(v=gf.Variable(np.zeros((2, 3)))).write(tmp_path / "c")
    with pytest.raises(ValueError, match=r"v has shape \(2, 3\) in .* now has shape \(3,\)"):
        gf.train.Checkpoint(v=gf.Variable(np.zeros(3))).restore(path)
