"""Host kernels (gpuflow/runtime/host.py): kernels/*.cu built as plain host code for compiled cpu graphs. The
build is cached, the loop is the kernel's own arithmetic, and every argument is checked before the kernel runs."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from gpuflow.errors import KernelError
from gpuflow.runtime import host

NAMES = ("sgd_update<float>", "sgd_update<double>")


def _sgd():
    kernel = host.kernel("optim.cu", "sgd_update<float>", NAMES)
    if kernel is None:
        pytest.skip("no C++ compiler for host kernels here")
    return kernel


def _template(n, lr_position=3):
    # sgd_update(p, g, m, p_out, m_out, n, step, momentum, use_momentum, nesterov, weight_decay)
    return [0, 1, 0, 2, 2, np.int64(n), lr_position, np.float32(0.0), np.int32(0), np.int32(0), np.float32(0.0)]


def test_a_kernel_runs_its_own_arithmetic_over_the_whole_array():
    kernel = _sgd()
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(1001).astype(np.float32), rng.standard_normal(1001).astype(np.float32)
    out, step = np.empty_like(p), np.array([0.1, 1.0])
    kernel.prepare([_template(p.size)], [p.size] * 3).run([p, g, out, step])
    np.testing.assert_array_equal(out, p - np.float32(0.1) * g)


def test_one_call_runs_the_kernel_once_per_template():
    kernel = _sgd()
    arrays = [np.full(5, 1.0, np.float32), np.full(5, 2.0, np.float32), np.empty(5, np.float32),
              np.full(9, 3.0, np.float32), np.full(9, 1.0, np.float32), np.empty(9, np.float32)]
    second = [3, 4, 3, 5, 5, np.int64(9), 6] + _template(9)[7:]
    kernel.prepare([_template(5, 6), second], [5, 5, 5, 9, 9, 9]).run(arrays + [np.array([0.5, 1.0])])
    np.testing.assert_array_equal(arrays[2], np.zeros(5, np.float32))
    np.testing.assert_array_equal(arrays[5], np.full(9, 2.5, np.float32))


@pytest.mark.parametrize("bad, message", [
    (lambda p: p.astype(np.float64), "array 0 must be a C-contiguous array of float32 of 7 elements, got ndarray of "
                                     "float64[7]"),
    (lambda p: np.zeros(6, np.float32), "of 7 elements, got ndarray of float32[6]"),
    (lambda p: np.zeros(14, np.float32)[::2], "not C-contiguous"),
    (lambda p: [1.0] * 7, "got list"),
])
def test_an_array_that_does_not_fit_is_refused_before_the_kernel_runs(bad, message):
    kernel = _sgd()
    p = np.ones(7, np.float32)
    calls = kernel.prepare([_template(7)], [7] * 3)
    with pytest.raises(KernelError, match="host kernel sgd_update<float>: ") as e:
        calls.run([bad(p), p.copy(), np.empty_like(p), np.array([0.1, 1.0])])
    assert message in str(e.value)


def test_an_output_must_be_writeable():
    kernel = _sgd()
    out = np.empty(7, np.float32)
    out.flags.writeable = False
    with pytest.raises(KernelError, match="array 2 must be a C-contiguous, writeable array of float32"):
        kernel.prepare([_template(7)], [7] * 3).run([np.ones(7, np.float32), np.ones(7, np.float32), out,
                                                     np.array([0.1, 1.0])])


@pytest.mark.parametrize("j, value, message", [
    (7, np.float64(0.0), "argument 7 must be a NumPy float32 scalar, got float64"),
    (5, 7, "argument 5 must be a NumPy int64 scalar, got int"),
    (0, np.float32(1.0), "argument 0 must be an array position, for an array of float32"),
])
def test_a_template_of_the_wrong_types_is_refused(j, value, message):
    kernel = _sgd()
    template = _template(7)
    template[j] = value
    with pytest.raises(KernelError, match=message):
        kernel.prepare([template], [7] * 3)


def test_a_template_of_the_wrong_length_is_refused():
    with pytest.raises(KernelError, match="takes 11 arguments, got 10"):
        _sgd().prepare([_template(7)[:-1]], [7] * 3)


def test_the_library_is_built_once_and_then_found_on_disk(monkeypatch):
    _sgd()
    monkeypatch.setattr(host, "_libraries", {})
    before = dict(host.stats)
    assert host.library("optim.cu", NAMES).kernel("sgd_update<double>").params[0] == "*cf8"
    assert host.stats["builds"] == before["builds"] and host.stats["disk_hits"] == before["disk_hits"] + 1


def test_host_kernels_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("GPUFLOW_HOST_KERNELS", "0")
    assert host.kernel("optim.cu", "sgd_update<float>", NAMES) is None


def test_without_a_compiler_they_are_off_and_the_reason_is_logged_once(monkeypatch, tmp_path):
    monkeypatch.setenv("GPUFLOW_CACHE_DIR", str(tmp_path))  # (no cached build to find)
    monkeypatch.setattr(host, "CXX", str(tmp_path / "no-such-compiler"))
    monkeypatch.setattr(host, "_libraries", {})
    monkeypatch.setattr(host, "_off_reason", [])
    monkeypatch.setattr(host, "_failed", set())
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("gpuflow").addHandler(handler)  # (gpuflow's logger does not propagate to the root's)
    try:
        assert host.kernel("optim.cu", "sgd_update<float>", NAMES) is None
        assert host.kernel("optim.cu", "sgd_update<double>", NAMES) is None
    finally:
        logging.getLogger("gpuflow").removeHandler(handler)
    warnings = [r.getMessage() for r in records if "host kernels" in r.getMessage()]
    assert len(warnings) == 1 and "no-such-compiler" in warnings[0]


def test_a_source_that_does_not_build_names_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("GPUFLOW_CACHE_DIR", str(tmp_path))
    with pytest.raises(KernelError, match="building kernels/optim.cu for the host failed"):
        host.library("optim.cu", ("no_such_kernel<float>",))


def test_templates_must_use_every_array_position_from_zero():
    template = _template(7)
    template[3] = template[4] = 5  # (no position 2)
    with pytest.raises(KernelError, match=r"use array positions \[0, 1, 3, 5\], not 0 to 3"):
        _sgd().prepare([template], [7] * 3)


def test_a_call_with_another_number_of_arrays_is_refused():
    with pytest.raises(KernelError, match="4 arrays expected, got 3"):
        _sgd().prepare([_template(7)], [7] * 3).run([np.ones(7, np.float32)] * 3)
