"""Notebooks run in a real Jupyter kernel (nbclient + ipykernel), as a user's would: the quickstart runs to
the end with its plots, the progress bar is one display output updated in place, a tensor shows its HTML."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason='nbformat is not installed (pip install "gpuflow[interop]")')
nbclient = pytest.importorskip("nbclient", reason='nbclient is not installed (pip install "gpuflow[interop]")')
pytest.importorskip("ipykernel", reason='ipykernel is not installed (pip install "gpuflow[interop]")')
pytest.importorskip("matplotlib", reason='matplotlib is not installed (pip install "gpuflow[interop]")')

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """Runs a notebook in a 'python3' kernel of this interpreter, importing this checkout's gpuflow.

    The kernelspec is written to a folder put first on JUPYTER_PATH, so a 'python3' kernel installed for
    another Python elsewhere on the machine cannot be picked instead."""
    from ipykernel.kernelspec import write_kernel_spec
    write_kernel_spec(path=tmp_path / "jupyter" / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("GPUFLOW_DEVICE", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the figures as PNG

    def run(notebook, cwd, timeout=120):
        client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                                         resources={"metadata": {"path": str(cwd)}})
        client.execute()
        return notebook
    return run


def _outputs(cell, output_type):
    return [o for o in cell.outputs if o.output_type == output_type]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in _outputs(cell, "stream"))


def test_quickstart_notebook_trains_plots_and_shows_mistakes(kernel):
    path = ROOT / "examples" / "notebooks" / "quickstart.ipynb"
    notebook = kernel(nbformat.read(path, as_version=4), path.parent)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not _outputs(cell, "error") for cell in code)

    [tensor_cell] = [c for c in code if c.source.startswith("gf.constant(")]
    [result] = _outputs(tensor_cell, "execute_result")
    assert "shape=(8, 8) dtype=float32" in result.data["text/html"] and "<table>" in result.data["text/html"]

    [fit_cell] = [c for c in code if "model.fit(" in c.source]
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", _text(fit_cell)).group(1))
    assert accuracy >= 0.9
    bars = [o.data["text/plain"] for o in _outputs(fit_cell, "display_data")]
    assert len(bars) == 20  # one display per epoch, each updated in place to its final state
    assert all(re.fullmatch(r"41/41 \[={30}\] - .* - val_accuracy: \d\.\d{4}", bar) for bar in bars), bars[-1]
    assert "\r" not in _text(fit_cell) and _text(fit_cell).count("Epoch ") == 20

    pictures = [c for c in code if "plt.show()" in c.source]
    assert len(pictures) == 2
    for cell in pictures:
        assert any("image/png" in o.data for o in _outputs(cell, "display_data"))
    assert re.search(r"\d+ of 359 test digits misclassified", _text(pictures[1]))


def test_progress_bar_in_a_kernel_is_one_display_updated_in_place(kernel, tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook
    notebook = new_notebook(cells=[
        new_code_cell("from gpuflow.keras.engine import progbar\n"
                      "bar = progbar.Progbar(5, interval=0.0)\n"
                      "for step in range(1, 6):\n"
                      "    bar.update(step, [('loss', 1.0 / step)])\n"
                      "print(progbar._notebook_display(), progbar._dynamic_display())"),
    ])
    [cell] = kernel(notebook, tmp_path).cells
    [bar] = _outputs(cell, "display_data")
    assert re.fullmatch(r"5/5 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: 0\.4567", bar.data["text/plain"])
    assert _text(cell) == "True False\n"  # detected the kernel; not a terminal


def test_outside_a_kernel_no_notebook_is_detected():
    from gpuflow.keras.engine import progbar
    assert progbar._notebook_display() is False
