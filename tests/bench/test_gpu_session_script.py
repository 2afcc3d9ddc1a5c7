"""bench/gpu_session.sh, run here without a GPU: every GPU step refuses at once (saying so), so what is
checked is the plan it runs: warm before the tests, pytest-timeout on the tests, cuda first in every bench."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def session(tmp_path, steps, **extra_env):
    env = dict(os.environ, OUT=str(tmp_path), STEPS=steps, PYTHON=sys.executable, GPUFLOW_CACHE_DIR=str(tmp_path / "c"),
               **extra_env)
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_session.sh")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    return done, {p.name: p.read_text() for p in tmp_path.glob("*.*")}


@pytest.fixture(autouse=True)
def _no_gpu():
    from gpuflow.devices import cuda_available
    if cuda_available():
        pytest.skip("a GPU is here: the session would run for real")


def commands(logs):
    """step name -> the command it ran, from the '== name (limit Ns): command' lines."""
    lines = "".join(logs.values()).splitlines()
    return {m.group(1): m.group(2) for line in lines if (m := re.match(r"== (\w+) \(limit \d+s\): (.*)", line))}


def test_the_kernels_are_warmed_before_the_tests_with_a_per_test_timeout(tmp_path):
    pytest.importorskip("pytest_timeout", reason="pytest-timeout is not installed (the test extra has it)")
    done, logs = session(tmp_path, "warm tests")
    assert done.returncode == 2, done.stdout + done.stderr  # both steps refused: no GPU here
    summary = logs["summary.txt"].splitlines()
    assert [line.split()[0] for line in summary] == ["warm", "tests"], summary
    assert all("FAILED (exit 3)" in line for line in summary), summary
    ran = commands(logs)
    assert ran["warm"].endswith("-m gpuflow.kernels warm")
    assert "--timeout=120 " in ran["tests"] and "-m gpu" in ran["tests"], ran["tests"]
    assert "no usable CUDA GPU" in logs["setup.log"] and "no usable CUDA GPU" in logs["tests.log"]


def test_the_per_test_timeout_is_configurable(tmp_path):
    pytest.importorskip("pytest_timeout", reason="pytest-timeout is not installed (the test extra has it)")
    _, logs = session(tmp_path, "tests", TEST_TIMEOUT_S="30")
    assert "--timeout=30 " in commands(logs)["tests"]


def test_every_benchmark_runs_cuda_first(tmp_path):
    done, logs = session(tmp_path, "ops overhead fit")
    ran = commands(logs)
    assert set(ran) == {"ops", "overhead", "fit"}, ran
    for name, command in ran.items():
        devices = re.search(r"--devices (\S+)", command).group(1).split(",")
        assert devices[0] == "cuda", (name, command)
    assert done.returncode == 3
