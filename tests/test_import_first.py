"""Every module that `import gpuflow` does not load itself can be the first thing a program imports.

`import gpuflow.keras.backup` as a script's first line once failed: backup imports callbacks, which imported
backup back at its end and found it half made. Modules that `import gpuflow` loads are always loaded in its
order, whatever the program names first, so only the others need a fresh interpreter each."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import gpuflow


def _lazy_modules():
    names = [m.name for m in pkgutil.walk_packages(gpuflow.__path__, "gpuflow.") if not m.name.endswith("__main__")]
    code = "import sys, gpuflow; print('\\n'.join(sorted(m for m in sys.modules if m.startswith('gpuflow'))))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(run.stdout.split())
    return [name for name in names if name not in loaded]


# Imports each module named on the command line in a child forked from a parent that has loaded gpuflow's
# third-party dependencies only (most of an import's time, ml_dtypes alone ~0.6 s), two children at a time;
# prints each failure as "module<TAB>last line of its error".
_CHECK = r"""
import os, sys, traceback
import numpy, ml_dtypes  # noqa: F401 - loaded once, before the forks
names, running = sys.argv[1:], {}
read_end = {}

def reap():
    pid, status = os.wait()
    name, fd = running.pop(pid)
    err = os.read(fd, 1 << 16).decode(errors="replace").strip().splitlines()
    os.close(fd)
    if status:
        print(name + "\t" + (err[-1] if err else f"exit status {status}"), flush=True)

for name in names:
    while len(running) >= 2:
        reap()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            __import__(name)
            os._exit(0)
        except BaseException:
            os.write(w, traceback.format_exc()[-4000:].encode())  # within a pipe buffer: never blocks
            os._exit(1)
    os.close(w)
    running[pid] = (name, r)
while running:
    reap()
"""


def test_each_lazily_loaded_module_imports_first():
    lazy = _lazy_modules()
    assert "gpuflow.keras.backup" in lazy and "gpuflow.keras.tensorboard_callback" in lazy
    run = subprocess.run([sys.executable, "-c", _CHECK, *lazy], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert not run.stdout.strip(), f"modules that fail as a program's first import:\n{run.stdout}"
