"""gf.random.set_seed alone makes training repeat bit for bit: initial weights, dropout, fit's shuffle,
a Dataset pipeline's shuffle and map; with op determinism on sim as well."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from gpuflow.keras.models import Sequential


@pytest.fixture(autouse=True)
def _determinism_off_afterwards():
    yield
    gf.config.experimental.disable_op_determinism()


def _data(n=48):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32)).astype(np.float32)


def _train(seed, device="cpu", data=None, **fit_kwargs):
    gf.random.set_seed(seed)
    np.random.seed()  # NumPy's global generator must not matter: fresh entropy every run
    with gf.device(device):
        model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dropout(0.3),
                            layers.Dense(1)])
        model.compile(gf.keras.optimizers.SGD(0.05), loss="mse")
        model.fit(*(data if data is not None else _data()), epochs=2, verbose=0, **fit_kwargs)
        return [w.numpy() for w in model.weights]


def _same_bits(a, b):
    return all(x.tobytes() == y.tobytes() for x, y in zip(a, b))


@pytest.mark.parametrize("device", ["cpu", "sim"])
def test_two_shuffled_fits_under_set_seed_alone_end_bit_identical(device):
    first = _train(1234, device, batch_size=8, shuffle=True)
    assert _same_bits(_train(1234, device, batch_size=8, shuffle=True), first)
    assert not _same_bits(_train(1235, device, batch_size=8, shuffle=True), first)


def test_the_shuffle_itself_follows_the_seed():
    # Same initial weights and dropout masks, shuffled or not: only the batches differ.
    assert not _same_bits(_train(7, batch_size=8, shuffle=True), _train(7, batch_size=8, shuffle=False))


def test_a_dataset_pipeline_with_shuffle_and_random_map_repeats():
    x, y = _data()

    def pipeline():
        return (gf.data.Dataset.from_tensor_slices((x, y)).shuffle(48)
                .map(lambda a, b: (a + gf.random.normal((4,), stddev=0.01), b), num_parallel_calls=3)
                .batch(8).prefetch(2))

    def run(seed):
        gf.random.set_seed(seed)
        with gf.device("cpu"):
            model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dropout(0.3),
                                layers.Dense(1)])
            model.compile(gf.keras.optimizers.SGD(0.05), loss="mse")
            model.fit(pipeline(), epochs=2, verbose=0)
            return [w.numpy() for w in model.weights]

    first = run(9)
    assert _same_bits(run(9), first)
    assert not _same_bits(run(10), first)


def test_keras_set_random_seed_and_op_determinism_on_sim():
    def run():
        gf.keras.utils.set_random_seed(21)
        gf.config.experimental.enable_op_determinism()
        return _train(21, "sim", batch_size=16, shuffle=True)
    assert _same_bits(run(), run())


def test_initializers_and_dropout_repeat_under_set_seed():
    def draw():
        gf.random.set_seed(3)
        kernel = gf.keras.initializers.GlorotUniform()((4, 5)).numpy()
        mask = gf.keras.layers.Dropout(0.5)(gf.ones([64]), training=True).numpy()
        return kernel, mask
    (k1, m1), (k2, m2) = draw(), draw()
    assert k1.tobytes() == k2.tobytes() and m1.tobytes() == m2.tobytes() and 0 < (m1 == 0).sum() < 64
