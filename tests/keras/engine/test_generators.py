"""fit / evaluate / predict on Python generators and keras.utils.PyDataset (Keras 3) objects."""
import os
import re
import threading
import warnings

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import callbacks as cb
from gpuflow.keras.engine import progbar
from gpuflow.keras.engine.py_dataset import PyDatasetBatches
from gpuflow.keras.models import Sequential
from gpuflow.keras.optimizers import SGD

from _engine_helpers import Lin
from _py_datasets import Indices, Linear, Pids, linear_data


def _regressor(lr=0.1):
    model = Sequential([Lin(1, input_shape=(3,))])
    model.compile(optimizer=SGD(learning_rate=lr), loss="mse")
    return model


def _gen(n_batches, batch=16, seed=0):
    x, y = linear_data(n_batches * batch, seed)
    for i in range(n_batches):
        yield x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]


def _steps(record):
    return cb.LambdaCallback(on_train_batch_end=lambda b, logs: record.append(b))


# --- plain generators -----------------------------------------------------------------------------

def test_fit_trains_on_a_generator_until_it_is_exhausted():
    steps = []
    history = _regressor().fit(_gen(40), verbose=0, callbacks=[_steps(steps)])
    assert steps == list(range(40))
    losses = []
    model = _regressor()
    model.fit(_gen(40), verbose=0, callbacks=[cb.LambdaCallback(
        on_train_batch_end=lambda b, logs: losses.append(logs["loss"]))])
    assert losses[-1] < 0.2 * losses[0] and history.epoch == [0]


def test_a_used_up_generator_stops_training_with_keras_warning():
    steps, epochs = [], []
    with pytest.warns(UserWarning, match=r"Your input ran out of data; interrupting training.*gave 4\)"):
        history = _regressor().fit(_gen(4), epochs=3, verbose=0, callbacks=[
            _steps(steps), cb.LambdaCallback(on_epoch_end=lambda e, logs: epochs.append(e))])
    assert steps == [0, 1, 2, 3] and epochs == [0] and history.epoch == [0]


def test_with_steps_per_epoch_a_generator_is_drawn_from_across_epochs():
    seen = []
    model = _regressor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 6 batches for 3 epochs of 2: no warning
        model.fit(_gen(6), epochs=3, steps_per_epoch=2, verbose=0, callbacks=[_steps(seen)])
    assert seen == [0, 1] * 3
    # 5 batches: the third epoch gets one, then training stops after that epoch.
    seen.clear()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = _regressor().fit(_gen(5), epochs=4, steps_per_epoch=2, verbose=0, callbacks=[_steps(seen)])
    assert seen == [0, 1, 0, 1, 0] and history.epoch == [0, 1, 2]


def test_an_empty_generator_is_an_error_that_says_why():
    with pytest.raises(ValueError, match="no batches.*generator can be iterated only once"):
        _regressor().fit(_gen(0), verbose=0)


def test_evaluate_and_predict_take_generators():
    model = _regressor()
    x, y = linear_data(64)
    expected = model.evaluate(x, y, batch_size=16, verbose=0)
    assert model.evaluate(_gen(4), verbose=0) == pytest.approx(expected, rel=1e-6)
    out = model.predict((b[0] for b in _gen(4)), verbose=0)
    np.testing.assert_allclose(out, model.predict(x, batch_size=16, verbose=0), rtol=1e-6)
    assert out.shape == (64, 1)


def test_a_generator_as_validation_data_is_used_once_then_named_in_the_error():
    model = _regressor()
    history = model.fit(_gen(4), validation_data=_gen(2, seed=1), verbose=0)
    assert "val_loss" in history.history
    with pytest.raises(ValueError, match="validation_data: the dataset yielded no batches.*validation_steps"):
        model.fit(Linear(), validation_data=_gen(2, seed=1), epochs=2, verbose=0)


def test_the_progress_bar_shows_an_unknown_total_then_the_count(capsys, monkeypatch):
    monkeypatch.setattr(progbar, "_dynamic_display", lambda: True)
    monkeypatch.setattr(progbar.Progbar, "update", _every_draw(progbar.Progbar.update))
    _regressor().fit(_gen(3), verbose=1)
    frames = [f for f in capsys.readouterr().out.split("\r") if f.strip()]
    assert re.match(r"Epoch 1/1\n$", frames[0])
    assert [re.match(r"\s+(\d)/Unknown - \d+(ms|us|s)/step - loss: \d+\.\d{4}\s*$", f).group(1)
            for f in frames[1:-1]] == ["1", "2", "3"], frames
    assert re.fullmatch(r"3/3 \[={30}\] - \d+s \d+(ms|us|s)/step - loss: \d+\.\d{4}\s*\n", frames[-1]), frames[-1]


def _every_draw(update):
    """Progbar.update without its redraw interval, so each step's frame is printed."""
    def draw(self, current, values=None, finalize=None):
        self._last_draw = 0.0
        self.interval = 0.0
        return update(self, current, values, finalize)
    return draw


# --- PyDataset / Sequence -------------------------------------------------------------------------

def test_sequence_is_keras_3s_alias():
    assert gf.keras.utils.Sequence is gf.keras.utils.PyDataset


@pytest.mark.parametrize("workers", [1, 2])
def test_fit_on_a_py_dataset_visits_every_batch_each_epoch_and_calls_its_hooks(workers):
    data = Linear(workers=workers)
    steps = []
    history = _regressor().fit(data, epochs=3, shuffle=False, verbose=0, callbacks=[_steps(steps)])
    assert steps == [0, 1, 2, 3] * 3 and data.asked == [0, 1, 2, 3] * 3
    assert data.hooks == ["begin", "end"] * 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    main = threading.get_ident()
    assert (data.threads == {main}) if workers == 1 else (main not in data.threads)


def test_two_workers_keep_the_batch_order_and_look_ahead_at_most_max_queue_size():
    class Slow(Linear):
        def __init__(self):
            super().__init__(n=160, workers=2, max_queue_size=3)
            self.ahead = 0

        def __getitem__(self, i):
            self.ahead = max(self.ahead, i - self.consumed)
            return super().__getitem__(i)

    data = Slow()
    data.consumed = 0
    order = []

    def consume(b, logs):
        order.append(b)
        data.consumed = b + 1
    _regressor().fit(data, shuffle=False, verbose=0, callbacks=[cb.LambdaCallback(on_train_batch_begin=consume)])
    assert order == list(range(10))
    assert 0 < data.ahead <= 3


def test_shuffle_visits_the_batches_in_a_new_seeded_order_each_epoch():
    def orders(seed):
        gf.random.set_seed(seed)
        data = Linear(n=160)
        _regressor().fit(data, epochs=2, verbose=0)  # shuffle=True is fit's default
        return data.asked[:10], data.asked[10:]

    first, second = orders(3)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second and first != list(range(10))
    assert orders(3) == (first, second)


def test_evaluate_and_predict_take_a_py_dataset_in_order():
    model = _regressor()
    data = Linear(workers=2)
    x, y = data.x, data.y
    assert model.evaluate(data, verbose=0) == pytest.approx(model.evaluate(x, y, batch_size=16, verbose=0), rel=1e-6)
    np.testing.assert_allclose(model.predict(Indices(workers=2), verbose=0)[::2, 0],
                               model.predict(np.repeat(np.arange(6, dtype=np.float32), 3).reshape(6, 3),
                                             verbose=0)[:, 0], rtol=1e-6)


def test_an_endless_py_dataset_needs_steps_per_epoch():
    class Endless(Linear):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, i):
            return super().__getitem__(i % 4)

    with pytest.raises(ValueError, match="Endless is endless.*steps_per_epoch"):
        _regressor().fit(Endless(), verbose=0)
    data = Endless()
    steps = []
    _regressor().fit(data, epochs=2, steps_per_epoch=3, verbose=0, callbacks=[_steps(steps)])
    assert steps == [0, 1, 2] * 2 and data.asked == [0, 1, 2, 3, 0, 1]  # one endless pass, indices 0..5


def test_py_dataset_arguments_are_checked():
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        Linear(workers=0)
    with pytest.raises(ValueError, match="max_queue_size must be an integer >= 1"):
        Linear(max_queue_size=0)

    class NoLength(gf.keras.utils.PyDataset):
        pass
    with pytest.raises(NotImplementedError, match="must define __len__"):
        NoLength().num_batches


def test_use_multiprocessing_fetches_in_worker_processes():
    batches = [b[0].numpy()[0] for b in PyDatasetBatches(Pids(workers=2, use_multiprocessing=True)).epoch()]
    assert [int(i) for i, _ in batches] == [0, 1, 2, 3]
    assert os.getpid() not in {int(pid) for _, pid in batches}
    model = _regressor()
    out = model.predict(Indices(workers=2, use_multiprocessing=True), verbose=0)
    np.testing.assert_allclose(out, model.predict(Indices(), verbose=0))

    class Local(Indices):  # defined in a function: a worker process could not import it
        pass
    with pytest.raises(TypeError, match="Local must be picklable.*use_multiprocessing=False"):
        model.predict(Local(use_multiprocessing=True), verbose=0)
