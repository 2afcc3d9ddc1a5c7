"""`python -m gpuflow.kernels warm`: every listed kernel into the CUBIN cache, in a process pool, no GPU needed
with --arch; a second run compiles nothing, and the loader's own lookups (cubin_cache.get) all hit."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("cuda.bindings.nvrtc", reason="cuda-python is not installed (pip install gpuflow[nvrtc])")

from _cubin_elf import cuda_elf_sm  # noqa: E402
from gpuflow.runtime.sources import instantiations  # noqa: E402
from gpuflow.runtime import nvrtc as nvrtc_driver  # noqa: E402
from gpuflow.runtime import cubin_cache  # noqa: E402

if not cubin_cache.available():
    pytest.skip("cuda-python cannot open NVRTC here", allow_module_level=True)

FILES = ["numerics.cu", "bias_act.cu"]  # 16 instantiations between them: seconds, not minutes


def warm(cache_root, *args):
    env = dict(os.environ, GPUFLOW_CACHE_DIR=str(cache_root))
    return subprocess.run([sys.executable, "-m", "gpuflow.kernels", "warm", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def counts(stdout):
    m = re.search(r"warm sm_90: (\d+) kernels, (\d+) compiled, (\d+) already cached, (\d+) failed", stdout)
    assert m, stdout
    return tuple(map(int, m.groups()))


def test_warm_fills_the_cache_once_and_the_loader_finds_every_entry(tmp_path, monkeypatch):
    args = ["--arch", "sm_90", "--jobs", "2"] + [a for f in FILES for a in ("--file", f)]
    names = [(f, n) for f in FILES for n in instantiations()[f]]
    first = warm(tmp_path, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert counts(first.stdout) == (len(names), len(names), 0, 0)
    cubins = sorted((tmp_path / "cuda").glob("*.cubin"))
    assert len(cubins) == len(names) and all(cuda_elf_sm(p.read_bytes()) == 90 for p in cubins)

    second = warm(tmp_path, "--arch", "90", *args[2:])  # "90" or "sm_90": one key
    assert second.returncode == 0 and counts(second.stdout) == (len(names), 0, len(names), 0), second.stdout

    # The loader asks with the GPU's compute capability ("90"): every lookup is a disk hit, NVRTC never runs.
    monkeypatch.setenv("GPUFLOW_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(nvrtc_driver, "compile_program", lambda *a, **k: pytest.fail("NVRTC ran on a warmed kernel"))
    for k in cubin_cache.stats:
        monkeypatch.setitem(cubin_cache.stats, k, 0)
    for file, name in names:
        cubin_cache.get(file, name, "90")
    assert cubin_cache.stats == {"compiles": 0, "disk_hits": len(names), "rejected": 0}


def test_an_unknown_file_is_refused_naming_the_known_ones(tmp_path):
    done = warm(tmp_path, "--arch", "sm_90", "--file", "nope.cu")
    assert done.returncode == 2 and "nope.cu" in done.stderr and "elementwise.cu" in done.stderr
    assert not (tmp_path / "cuda").exists()


def test_without_a_gpu_warm_asks_for_an_arch(tmp_path):
    from gpuflow.devices import cuda_available
    if cuda_available():
        pytest.skip("a GPU is here: warm would use its architecture")
    done = warm(tmp_path)
    assert done.returncode == 2 and "--arch sm_90" in done.stderr, done.stderr
