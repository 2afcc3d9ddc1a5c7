"""The compact HTML a notebook shows for a tensor (`Tensor._repr_html_`): shape, dtype and device above a
table of its values, cut to the first and last few rows and columns, with the index of each row.

Only the cells shown are read back from the device: a large tensor is cut down with gather on its own
device first, so displaying a 1 GB activation does not copy 1 GB to the host.
"""
from __future__ import annotations

import html

import numpy as np

from .array import gather, reshape

EDGE_ROWS, EDGE_COLS = 4, 4   # kept at each end of a long axis
WHOLE_BELOW = 4096            # a tensor this small is read back whole


def _kept(n: int, edge: int) -> list:
    return list(range(n)) if n <= 2 * edge else [*range(edge), *range(n - edge, n)]


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.4g}"


def _corner(tensor, rows: list, cols: list) -> np.ndarray:
    """The kept rows x columns of the tensor seen as 2-D (every leading axis folded into the rows)."""
    shape = tuple(tensor.shape)
    if int(np.prod(shape, dtype=np.int64)) <= WHOLE_BELOW:
        return tensor.numpy().reshape(-1, shape[-1])[np.ix_(rows, cols)]
    flat = reshape(tensor, (-1, shape[-1]))
    return gather(gather(flat, rows, axis=0), cols, axis=1).numpy()


def _row_label(index: int, lead: tuple) -> str:
    return ", ".join(str(i) for i in np.unravel_index(index, lead)) + ", :" if lead else ":"


def tensor_html(tensor) -> str | None:
    """The HTML, or None (IPython then shows the text repr) when the values cannot be read, as for a
    symbolic tensor being traced."""
    shape = tuple(tensor.shape)
    name = f" {html.escape(repr(tensor.name))}" if hasattr(tensor, "trainable") else ""  # a Variable's name
    dims = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
    head = (f"<b>gf.{type(tensor).__name__}</b>{name} shape=({dims}) "
            f"dtype={tensor.dtype.name} device={html.escape(str(tensor.device))}")
    try:
        if not shape:
            return f"<div>{head}<br><code>{_cell(tensor.numpy())}</code></div>"
        if 0 in shape:
            return f"<div>{head}<br><i>empty</i></div>"
        lead = shape[:-1]
        n_rows, n_cols = int(np.prod(lead, dtype=np.int64)), shape[-1]
        rows, cols = _kept(n_rows, EDGE_ROWS), _kept(n_cols, EDGE_COLS)
        values = _corner(tensor, rows, cols)
    except TypeError:
        return None
    cut_cols = len(cols) < n_cols
    header = [""] + [str(c) for c in cols]
    if cut_cols:
        header.insert(EDGE_COLS + 1, "…")
    lines = []
    for r, row in zip(rows, values):
        cells = [_cell(v) for v in row]
        if cut_cols:
            cells.insert(EDGE_COLS, "…")
        lines.append(f"<tr><th>[{_row_label(r, lead)}]</th>{''.join(f'<td>{c}</td>' for c in cells)}</tr>")
    if len(rows) < n_rows:
        lines.insert(EDGE_ROWS, f"<tr><th>⋮</th>{'<td>⋮</td>' * (len(header) - 1)}</tr>")
    thead = "".join(f"<th>{h}</th>" for h in header)
    return f"<div>{head}<table><thead><tr>{thead}</tr></thead><tbody>{''.join(lines)}</tbody></table></div>"
