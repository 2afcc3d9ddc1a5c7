"""Op determinism (gf.config.experimental.enable_op_determinism) and the seeding rules it relies on."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpuflow as gf
from gpuflow import determinism
from gpuflow.errors import UnimplementedError

KERNELS = Path(__file__).resolve().parents[2] / "kernels"

# Each thread adds its value with atomicAdd: the threads' order decides the float rounding.
ATOMIC_SUM = r'''
extern "C" __global__ void atomic_sum(const float* x, float* total, long long n) {
    long long i = threadIdx.x;
    if (i < n) atomicAdd(total, x[i]);  // order of arrival = order of the sum
}'''

# The deterministic way: every thread writes its own slot, then one thread adds the slots in order.
TWO_PASS_SUM = r'''
extern "C" __global__ void partials(const float* x, float* slots, long long n) {
    long long i = threadIdx.x;
    if (i < n) slots[i] = x[i];
}
extern "C" __global__ void add_in_order(const float* slots, float* total, long long n) {
    float s = 0.0f;
    for (long long i = 0; i < n; ++i) s += slots[i];
    total[0] = s;
}'''


@pytest.fixture(autouse=True)
def _determinism_off_afterwards():
    yield
    gf.config.experimental.disable_op_determinism()
    gf.random.set_seed(None)


def _values(n=256):
    # Magnitudes spread over 8 decades, so the rounding of a float32 sum depends on the order.
    rng = np.random.default_rng(0)
    return (rng.standard_normal(n) * 10.0 ** rng.integers(-4, 4, n)).astype(np.float32)


def _atomic_total(kernel, x, sim_seed, monkeypatch):
    monkeypatch.setenv("GPUFLOW_SIM_SEED", str(sim_seed))  # the simulator's thread order
    with gf.device("sim"):
        total = gf.zeros([1])
    kernel((1,), (x.shape[0],), (x, total, np.int64(x.shape[0])))
    return total.numpy().tobytes()


def test_the_flag_is_tfs():
    assert not gf.config.experimental.is_op_determinism_enabled()
    gf.config.experimental.enable_op_determinism()
    assert gf.config.experimental.is_op_determinism_enabled()
    gf.config.experimental.disable_op_determinism()
    assert not gf.config.experimental.is_op_determinism_enabled()


def test_enabling_fixes_cublas_workspace_unless_the_user_set_one(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    gf.config.experimental.enable_op_determinism()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    gf.config.experimental.enable_op_determinism()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_an_atomic_user_kernel_varies_with_thread_order_and_is_refused(monkeypatch):
    with gf.device("sim"):
        x = gf.constant(_values())
    kernel = gf.cuda.RawKernel(ATOMIC_SUM, "atomic_sum")
    totals = {_atomic_total(kernel, x, seed, monkeypatch) for seed in range(6)}
    assert len(totals) > 1  # the simulator really does reorder the threads, as a GPU would
    gf.config.experimental.enable_op_determinism()
    with pytest.raises(UnimplementedError, match=r"RawKernel atomic_sum calls atomicAdd.*op determinism is "
                                                 r"enabled.*second pass.*deterministic=True"):
        _atomic_total(kernel, x, 0, monkeypatch)
    vouched = gf.cuda.RawKernel(ATOMIC_SUM, "atomic_sum", deterministic=True)
    _atomic_total(vouched, x, 0, monkeypatch)  # the user's word is taken


def test_a_two_pass_sum_gives_the_same_bits_whatever_the_thread_order(monkeypatch):
    gf.config.experimental.enable_op_determinism()
    with gf.device("sim"):
        x = gf.constant(_values())
        slots = gf.zeros([x.shape[0]])
    first, second = gf.cuda.RawKernel(TWO_PASS_SUM, "partials"), gf.cuda.RawKernel(TWO_PASS_SUM, "add_in_order")
    totals = set()
    for seed in range(6):
        monkeypatch.setenv("GPUFLOW_SIM_SEED", str(seed))
        with gf.device("sim"):
            total = gf.zeros([1])
        first((1,), (x.shape[0],), (x, slots, np.int64(x.shape[0])))
        second((1,), (1,), (slots, total, np.int64(x.shape[0])))
        totals.add(total.numpy().tobytes())
    assert len(totals) == 1


def test_atomic_calls_reads_code_not_comments():
    assert determinism.atomic_calls(ATOMIC_SUM) == ["atomicAdd"]
    assert determinism.atomic_calls("// atomicAdd(x, 1)\n/* atomicMax(p, v) */ int y = 0;") == []
    assert determinism.atomic_calls("atomicCAS(a, b, c); atomicExch (p, v); atomicCAS(a, b, c);") == [
        "atomicCAS", "atomicExch"]


def test_no_shipped_kernel_uses_atomics():
    # Why op determinism has nothing to replace in gpuflow's own kernels. A new kernel with atomics must
    # give itself a deterministic path when determinism.is_op_determinism_enabled() (or refuse there),
    # and be listed here with the test that checks it.
    sources = sorted(KERNELS.glob("*.cu")) + sorted(KERNELS.glob("*.cuh"))
    assert len(sources) > 10
    found = {p.name: determinism.atomic_calls(p.read_text()) for p in sources}
    # numerics.cu (check_numerics' device flag): an atomicCAS that keeps the first failing op's number, which
    # every thread of one launch writes alike, and an atomicOr of kind bits: integer and order-independent, so
    # the flag is the same whatever order threads run in (tests/debugging/test_numerics_kernel.py checks it).
    allowed = {"numerics.cu"}
    assert {name: calls for name, calls in found.items() if calls and name not in allowed} == {}
    assert found["numerics.cu"], "the allowance above is stale: numerics.cu no longer uses atomics"


# --- seeds -----------------------------------------------------------------------------------------

def test_random_ops_need_a_seed_under_determinism():
    gf.random.set_seed(None)
    gf.config.experimental.enable_op_determinism()
    with pytest.raises(RuntimeError, match=r"random.uniform: random ops require a seed.*gf.random.set_seed"):
        gf.random.uniform((2,))
    with pytest.raises(RuntimeError, match="nn.dropout: random ops require a seed"):
        gf.nn.dropout(gf.ones([4]), 0.5)
    with pytest.raises(RuntimeError, match="Dataset.shuffle: random ops require a seed"):
        gf.data.Dataset.range(4).shuffle(4)
    gf.random.uniform((2,), seed=3)  # an op seed is enough, as in TF
    assert [int(v) for v in gf.data.Dataset.range(3).map(lambda v: v + 1)] == [1, 2, 3]  # no draw, no seed needed
    gf.random.set_seed(1)
    gf.random.uniform((2,))
    gf.nn.dropout(gf.ones([4]), 0.5)


def test_set_seed_none_unsets_and_an_op_seed_alone_repeats():
    gf.random.set_seed(None)
    a = gf.random.uniform((4,), seed=5).numpy()
    gf.random.set_seed(None)
    np.testing.assert_array_equal(gf.random.uniform((4,), seed=5).numpy(), a)


def test_an_op_seed_alone_repeats_across_processes_and_no_seed_does_not():
    code = ("import gpuflow as gf; print(gf.random.uniform((3,), seed=5).numpy().tolist(), "
            "gf.random.uniform((3,)).numpy().tolist())")
    env = {**os.environ, "PYTHONPATH": str(KERNELS.parent)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                           cwd=KERNELS.parent).stdout.split("] [") for _ in range(2)]
    assert runs[0][0] == runs[1][0] and runs[0][1] != runs[1][1]
