"""Keras's progress bar: `12/50 [=====>........] - ETA: 3s - loss: 0.4321`.

In a terminal the bar is redrawn in place with `\\r`. In a Jupyter kernel it is one display output
updated in place through its display id (IPython.display), so the notebook keeps only the last state
of each bar rather than every redraw. Where output goes to a file or a CI log, only the final line is
printed, so logs are not flooded.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np


def _dynamic_display() -> bool:
    """A terminal (or PyCharm's console) that honours `\\r`."""
    isatty = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    return isatty or "PYCHARM_HOSTED" in os.environ


def _notebook_display() -> bool:
    """Running in a Jupyter kernel: IPython's shell is ipykernel's ZMQInteractiveShell (or a subclass, such
    as Colab's). Looked up only when ipykernel is loaded, so a script never imports IPython for this."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__)


class _DisplayLine:
    """One text/plain display output, redrawn in place: the first draw makes it, later ones update it."""

    def __init__(self):
        self._handle = None

    def show(self, line: str):
        from IPython.display import display
        bundle = {"text/plain": line}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


def format_duration(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600) // 60:02d}:{int(seconds) % 60:02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds) % 60:02d}"
    return f"{int(seconds)}s"


def format_per_unit(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_value(value) -> str:
    value = float(np.asarray(value))
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


def format_metrics(values) -> str:
    return "".join(f" - {name}: {format_value(v)}" for name, v in values)


class Progbar:
    """`update(current, values)` draws the bar; `values` are (name, value) pairs, averaged over the steps
    seen unless the name is in `stateful_metrics` (then shown as given)."""

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        if target is not None and target < 0:
            raise ValueError(f"Progbar: target must be None (unknown) or >= 0, got {target}")
        self.target, self.width, self.verbose, self.interval = target, width, verbose, interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._notebook = _DisplayLine() if _notebook_display() else None
        self._dynamic = self._notebook is not None or _dynamic_display()
        self._sums, self._order = {}, []
        self._seen = 0
        self._start, self._last_draw = time.time(), 0.0
        self._prev_width = 0
        self._finished = False

    def _accumulate(self, values, current):
        for name, value in values or []:
            if name not in self._sums:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._sums[name] = [float(np.asarray(value)), 1]
            else:
                steps = max(current - self._seen, 1)
                total, count = self._sums.get(name, [0.0, 0])
                self._sums[name] = [total + float(np.asarray(value)) * steps, count + steps]

    def _values(self):
        return [(name, self._sums[name][0] / max(self._sums[name][1], 1)) for name in self._order]

    def due(self, current) -> bool:
        """Whether update(current, ...) would draw now: callers read the values (a device read) only then."""
        if self.verbose == 0 or self._finished:
            return False
        if self.target is not None and current >= self.target:
            return True
        return self._dynamic and self.verbose == 1 and time.time() - self._last_draw >= self.interval

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(values, current)
        self._seen = current
        if self.verbose == 0 or self._finished:
            return
        now = time.time()
        if not finalize and (not self._dynamic or self.verbose != 1 or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        if self.verbose == 1:
            line = self._bar(current)
            if finalize:
                line += f" - {format_duration(elapsed)} {format_per_unit(per_unit, self.unit_name)}"
            elif self.target is not None:
                line += f" - ETA: {format_duration(per_unit * (self.target - current))}"
            else:
                line += f" - {format_per_unit(per_unit, self.unit_name)}"
            line += format_metrics(self._values())
            self._write(line, finalize)
        else:  # verbose=2: one summary line when done
            line = (f"{current}/{self.target if self.target is not None else current} - {format_duration(elapsed)} "
                    f"- {format_per_unit(per_unit, self.unit_name)}{format_metrics(self._values())}")
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        self._finished = finalize

    def _bar(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        done = int(self.width * min(current / self.target, 1.0)) if self.target else self.width
        arrow = "=" * done if done >= self.width else "=" * max(done - 1, 0) + (">" if done else "")
        head = f"{current:{digits}d}/{self.target}"
        return f"{head} [{arrow}{'.' * (self.width - len(arrow))}]"

    def _write(self, line, finalize):
        if self._notebook is not None:
            self._notebook.show(line)
            return
        out = sys.stdout
        if self._dynamic:
            pad = " " * max(self._prev_width - len(line), 0)
            out.write("\r" + line + pad)
            self._prev_width = len(line)
            if finalize:
                out.write("\n")
        else:
            out.write(line + "\n")
        out.flush()

    def add(self, n, values=None):
        self.update(self._seen + n, values)
