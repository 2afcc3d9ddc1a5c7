"""Tensor._repr_html_: the compact table a notebook shows (shape, dtype, device, cut-down values)."""
from __future__ import annotations

import re

import numpy as np

import gpuflow as gf


def _cells(html):
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr><th>\[.*?\]</th>(.*?)</tr>", html)]


def test_small_tensor_shows_every_value(device):
    html = gf.constant(np.arange(6, dtype=np.int32).reshape(2, 3))._repr_html_()
    assert html.startswith(f"<div><b>gf.Tensor</b> shape=(2, 3) dtype=int32 device={device}:0<table>")
    assert _cells(html) == [["0", "1", "2"], ["3", "4", "5"]]
    assert re.findall(r"<th>\[(.*?)\]</th>", html) == ["0, :", "1, :"]


def test_large_tensor_keeps_the_corners_read_on_its_device(device):
    values = np.arange(10 * 100 * 100, dtype=np.float32).reshape(10, 100, 100)
    html = gf.constant(values)._repr_html_()
    rows = _cells(html)
    assert len(rows) == 8 and all(len(r) == 9 for r in rows)  # 4 + 4 rows, 4 + "…" + 4 columns
    assert rows[0] == ["0", "1", "2", "3", "…", "96", "97", "98", "99"]
    assert rows[-1][-1] == f"{values[-1, -1, -1]:.4g}"
    assert "<th>⋮</th>" in html and "[9, 99, :]" in html and "shape=(10, 100, 100)" in html


def test_scalars_empties_and_variables():
    assert gf.constant(2.5)._repr_html_().endswith("<code>2.5</code></div>")
    assert "<i>empty</i>" in gf.zeros((0, 3))._repr_html_()
    html = gf.Variable([True, False], name="mask")._repr_html_()
    assert "<b>gf.Variable</b> &#x27;mask&#x27; shape=(2,) dtype=bool" in html and _cells(html) == [["True", "False"]]
