import re

import numpy as np

from gpuflow.keras.engine import progbar
from gpuflow.keras.models import Sequential
from gpuflow.keras.optimizers import SGD
from gpuflow.keras.utils import Progbar

from _engine_helpers import Lin


def _fit(verbose, epochs=2):
    x = np.ones((64, 3), np.float32)
    model = Sequential([Lin(1, input_shape=(3,))])
    model.compile(SGD(0.01), loss="mean_squared_error")
    model.fit(x, x[:, :1], batch_size=16, epochs=epochs, verbose=verbose, validation_data=(x, x[:, :1]))


def test_verbose_1_without_a_terminal_prints_only_each_epochs_final_line(capsys):
    _fit(1)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"4/4 \[={30}\] - \d+s \d+(ms|us|s)/step - loss: \d+\.\d{4} - val_loss: \d+\.\d{4}",
                        lines[1]), lines[1]


def test_verbose_2_prints_one_line_per_epoch(capsys):
    _fit(2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"Epoch 1/2 - \d+s - \d+(ms|us|s)/step - loss: \d+\.\d{4} - val_loss: \d+\.\d{4}",
                        lines[0]), lines[0]


def test_verbose_0_prints_nothing(capsys):
    _fit(0)
    assert capsys.readouterr().out == ""


def test_in_a_terminal_the_bar_is_redrawn_in_place(capsys, monkeypatch):
    monkeypatch.setattr(progbar, "_dynamic_display", lambda: True)
    bar = Progbar(10, interval=0.0)
    bar.update(3, [("loss", 0.5)])
    bar.update(10, [("loss", 0.25)])
    out = capsys.readouterr().out
    first, final = out.split("\r")[1:]
    assert first.startswith(" 3/10 [========>.....................] - ETA: ") and "loss: 0.5000" in first
    assert final.startswith("10/10 [==============================] - ") and final.endswith("\n")
    assert "/step - loss: 0.3250" in final  # not stateful: averaged over the steps seen (0.5*3 + 0.25*7) / 10


def test_number_formats():
    assert progbar.format_value(1.5e-5) == "1.5000e-05" and progbar.format_value(0.5) == "0.5000"
    assert progbar.format_duration(3725) == "1:02:05" and progbar.format_duration(75) == "1:15"
    assert progbar.format_per_unit(0.012, "step") == "12ms/step"
