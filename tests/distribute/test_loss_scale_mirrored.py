"""A mixed_float16 model under MirroredStrategy: its compiled replica steps scale the loss, skip and grow on the device
as the eager ones do."""
import numpy as np
import pytest

import gpuflow as gf
from _models import digits, mlp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflowing steps overflow in NumPy too


def train(strategy, x, y, eager):
    gf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        gf.keras.utils.set_random_seed(1)
        with strategy.scope():
            model = mlp()
            # grows every 2 good steps until the float16 gradients overflow (at 2**21): then a step is skipped
            optimizer = gf.keras.optimizers.LossScaleOptimizer(gf.keras.optimizers.Adam(0.01), initial_scale=2.0 ** 18,
                                                               dynamic_growth_steps=2)
            model.compile(optimizer, gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          run_eagerly=eager)
        scales = []
        callback = gf.keras.callbacks.LambdaCallback(on_train_batch_end=lambda *_: scales.append(
            (model.optimizer.loss_scale, int(model.optimizer.iterations.numpy()))))
        model.fit(x, y, batch_size=128, epochs=3, verbose=0, callbacks=[callback])
        return model, scales
    finally:
        gf.keras.mixed_precision.set_global_policy(None)


def test_two_replicas_skip_and_grow_compiled_as_eagerly(two_cpus):
    x, y = digits()
    x, y = x[:512], y[:512]
    eager, eager_scales = train(gf.distribute.MirroredStrategy(two_cpus), x, y, eager=True)
    compiled, scales = train(gf.distribute.MirroredStrategy(two_cpus), x, y, eager=False)
    assert scales == eager_scales
    values = [scale for scale, _ in scales]
    assert any(b == 2 * a for a, b in zip(values, values[1:])) and any(b == a / 2 for a, b in zip(values, values[1:]))
    assert 0 < scales[-1][1] < len(scales)  # the overflowing steps were skipped
    assert compiled.train_function.experimental_get_tracing_count() == 2  # one trace per replica device
    for p, q in zip(eager.weights, compiled.weights):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert np.array_equal(q.values[0].numpy(), q.values[1].numpy())
