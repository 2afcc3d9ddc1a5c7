"""Keras under MirroredStrategy on logical cpu (and sim) devices: fit on 2 replicas ends where fit on one does."""
import numpy as np
import pytest

import gpuflow as gf
from _models import digits, mlp


def train(strategy, x, y, epochs=3, batch_size=128, optimizer="adam", **fit_kwargs):
    gf.keras.utils.set_random_seed(1)
    with strategy.scope():
        model = mlp(optimizer)
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, **fit_kwargs)
    return model, history.history


def max_difference(a, b):
    return max(float(np.abs(p.numpy() - q.numpy()).max()) for p, q in zip(a.weights, b.weights))


def test_two_replicas_end_with_the_weights_of_one(two_cpus):
    """The done-when test: MLP, 3 epochs, global batch 128 (the last batch of each epoch is partial, 30 rows,
    split 15/15), the same seed, shuffled: weights within 1e-5 of single-device training."""
    x, y = digits()
    one, h1 = train(gf.distribute.get_strategy(), x, y)
    two, h2 = train(gf.distribute.MirroredStrategy(two_cpus), x, y)
    assert isinstance(two.weights[0], gf.distribute.MirroredVariable)
    assert max_difference(one, two) < 1e-5
    # both compiled: one trace per batch shape (128 rows and the last 30), and per replica device (64 and 15 rows)
    assert one.train_function.experimental_get_tracing_count() == 2
    assert two.train_function.experimental_get_tracing_count() == 4
    for w in two.weights:  # every replica applied the same updates: the copies are identical
        assert np.array_equal(w.values[0].numpy(), w.values[1].numpy())
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-6)
    assert h1["accuracy"] == h2["accuracy"]  # the metrics see every replica's predictions
    np.testing.assert_allclose(one.evaluate(x, y, verbose=0), two.evaluate(x, y, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(one.predict(x[:77], verbose=0), two.predict(x[:77], verbose=0), atol=1e-5)


def test_sgd_three_replicas_and_validation(three_cpus):
    x, y = digits()
    x, y = x[:600], y[:600]
    kwargs = dict(epochs=2, batch_size=100, optimizer="sgd", validation_data=(x[:200], y[:200]))
    one, h1 = train(gf.distribute.get_strategy(), x[200:], y[200:], **kwargs)
    three, h3 = train(gf.distribute.MirroredStrategy(three_cpus), x[200:], y[200:], **kwargs)
    assert max_difference(one, three) < 1e-5
    assert three.train_function.experimental_get_tracing_count() == 3  # 100 rows: 34, 33, 33 per replica
    assert three.make_test_function().experimental_get_tracing_count() == 3  # validation: 200 rows, 2 batches
    np.testing.assert_allclose(h1["val_loss"], h3["val_loss"], rtol=1e-5)
    assert h1["val_accuracy"] == h3["val_accuracy"]


def test_two_sim_replicas_run_our_kernels(two_sims):
    x, y = digits()
    with gf.device("sim"):
        one, _ = train(gf.distribute.get_strategy(), x[:256], y[:256], epochs=1)
        two, _ = train(gf.distribute.MirroredStrategy(two_sims), x[:256], y[:256], epochs=1)
    assert [t.device for t in two.weights[0].values] == ["sim:0", "sim:1"]
    assert max_difference(one, two) < 1e-5
    assert two.train_function.experimental_get_tracing_count() == 2


def test_custom_loop_with_run_and_compute_average_loss(two_cpus):
    """TF's custom training loop: strategy.run of a step that scales by the global batch and calls
    apply_gradients, which sums the replicas' gradients, over a distributed dataset."""
    x, y = digits()
    x, y = x[:512], y[:512]
    loss_fn = gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def run(strategy):
        gf.keras.utils.set_random_seed(3)
        with strategy.scope():
            model = mlp("sgd")
            optimizer = gf.keras.optimizers.SGD(0.1)

        def step(xb, yb):
            with gf.GradientTape() as tape:
                loss = gf.nn.compute_average_loss(loss_fn(yb, model(xb, training=True)), global_batch_size=128)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        dataset = gf.data.Dataset.from_tensor_slices((x, y)).batch(128)
        losses = []
        for xb, yb in strategy.experimental_distribute_dataset(dataset):
            per_replica = strategy.run(step, args=(xb, yb))
            losses.append(float(strategy.reduce("sum", per_replica, axis=None)))
        return model, losses
    one, l1 = run(gf.distribute.get_strategy())
    two, l2 = run(gf.distribute.MirroredStrategy(two_cpus))
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    assert max_difference(one, two) < 1e-6


def test_compiled_outside_the_scope_or_custom_train_step_are_refused(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    x, y = digits()
    with strategy.scope():
        model = gf.keras.Sequential([gf.keras.layers.Input((64,)), gf.keras.layers.Dense(10)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="compiled outside it"):
        model.fit(x[:10], np.zeros((10, 10), np.float32), verbose=0)

    class Custom(gf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = gf.keras.layers.Dense(10)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            return super().train_step(data)
    with strategy.scope():
        custom = Custom()
        custom.compile("sgd", "mse")
    with pytest.raises(NotImplementedError, match="overrides train_step"):
        custom.fit(x[:10], np.zeros((10, 10), np.float32), verbose=0)


def test_predict_on_a_model_built_in_scope_but_not_compiled(two_cpus):
    x, _ = digits()
    gf.keras.utils.set_random_seed(0)
    model = gf.keras.Sequential([gf.keras.layers.Input((64,)), gf.keras.layers.Dense(4)])
    with gf.distribute.MirroredStrategy(two_cpus).scope():
        gf.keras.utils.set_random_seed(0)
        mirrored = gf.keras.Sequential([gf.keras.layers.Input((64,)), gf.keras.layers.Dense(4)])
    np.testing.assert_allclose(model.predict(x[:33], verbose=0), mirrored.predict(x[:33], verbose=0), atol=1e-6)


class _StopAt(gf.keras.callbacks.Callback):
    """Raises at one batch of one epoch: a job interrupted mid-epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("interrupted")


@pytest.mark.parametrize("replicated", [False, True])
def test_backup_and_restore_resumes_from_the_last_epoch(replicated, two_cpus, tmp_path):
    x, y = digits()
    x, y = x[:640], y[:640]
    strategy = gf.distribute.MirroredStrategy(two_cpus) if replicated else gf.distribute.get_strategy()
    reference, _ = train(strategy, x, y, epochs=3, shuffle=False)

    backup = tmp_path / "backup"
    gf.keras.utils.set_random_seed(1)
    with strategy.scope():
        model = mlp()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=128, epochs=3, verbose=0, shuffle=False,
                  callbacks=[gf.keras.callbacks.BackupAndRestore(backup), _StopAt(1, 2)])
    assert (backup / "latest.safetensors").exists()

    gf.keras.utils.set_random_seed(99)  # the restarted job starts from other weights: the backup replaces them
    with strategy.scope():
        restarted = mlp()
    epochs = []
    history = restarted.fit(x, y, batch_size=128, epochs=3, verbose=0, shuffle=False, callbacks=[
        gf.keras.callbacks.BackupAndRestore(backup),
        gf.keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))])
    assert epochs == [1, 2] and len(history.history["loss"]) == 2
    assert max_difference(reference, restarted) < 1e-6  # weights and optimizer state were both restored
    assert not backup.exists()  # training ended: the backup is deleted


def test_backup_and_restore_arguments(tmp_path):
    with pytest.raises(NotImplementedError, match="save_freq"):
        gf.keras.callbacks.BackupAndRestore(tmp_path, save_freq=10)
    with pytest.raises(ValueError, match="backup_dir"):
        gf.keras.callbacks.BackupAndRestore("")
    (tmp_path / "latest.safetensors").write_bytes(b"not a backup")
    model = mlp()
    x, y = digits()
    with pytest.raises(ValueError, match="is not a backup written by BackupAndRestore"):
        model.fit(x[:8], y[:8], verbose=0, callbacks=[gf.keras.callbacks.BackupAndRestore(tmp_path)])


def test_mixed_precision_under_a_strategy(two_cpus):
    """Mirrored variables are read in the compute dtype inside a mixed-precision layer, as plain ones are."""
    x, y = digits()
    gf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        one, h1 = train(gf.distribute.get_strategy(), x[:512], y[:512], epochs=2)
        two, h2 = train(gf.distribute.MirroredStrategy(two_cpus), x[:512], y[:512], epochs=2)
    finally:
        gf.keras.mixed_precision.set_global_policy("float32")
    assert two.weights[0].dtype == gf.float32
    assert all(np.array_equal(w.values[0].numpy(), w.values[1].numpy()) for w in two.weights)
    assert max_difference(one, two) < 2e-2  # bfloat16 rounds each replica's half-batch differently
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=2e-2)
