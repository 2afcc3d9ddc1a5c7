"""The sim gate: every kernel we ship was launched on `sim` by this test run, and every launched
instantiation is in kernels/instantiations.txt (so `python -m gpuflow.kernels check` compiles it).

It needs the whole suite's launches, so conftest.py runs it last and it skips when only part of
the suite was selected.
"""
import re

import pytest

from gpuflow.kernels import instantiations
from gpuflow.runtime.loader import launched, launched_generated
from gpuflow.runtime.sources import kernel_files

_GLOBAL = re.compile(r"__global__\s+(?:__launch_bounds__\([^)]*\)\s+)?void\s+(\w+)")


def shipped_kernels():
    return {(p.name, name) for p in kernel_files() for name in _GLOBAL.findall(p.read_text())}


@pytest.fixture
def whole_suite(request):
    if not request.config.getoption("--kernel-coverage"):
        pytest.skip("needs the whole op suite in this run (the README's test command does this)")


def test_every_shipped_kernel_was_launched_on_sim(whole_suite):
    ran = {(file, name.split("<")[0].split("::")[-1]) for file, name in launched["sim"]}
    never = sorted(shipped_kernels() - ran)
    assert not never, ("kernels never launched on sim by the test suite (add a test that runs them): "
                       + ", ".join(f"{f}:{n}" for f, n in never))


def test_every_launched_instantiation_is_compile_checked(whole_suite):
    listed = {(f, n) for f, names in instantiations().items() for n in names}
    missing = sorted(launched["sim"] - listed)
    assert not missing, ("instantiations launched but not in kernels/instantiations.txt, so NVRTC never checks "
                         "them; run `GPUFLOW_UPDATE_INSTANTIATIONS=1 python -m pytest`: "
                         + ", ".join(f"{f}:{n}" for f, n in missing[:20]))


def test_every_kind_of_generated_kernel_ran_on_sim(whole_suite):
    """The graph compiler's templates (kernels/fused.cuh): elementwise maps, reductions with epilogues and
    multi-tensor optimizer updates each ran on sim (their NVRTC check: gpuflow/graph/fusion/samples.py)."""
    kinds = {kind for kind, _ in launched_generated["sim"]}
    assert kinds >= {"map", "reduce", "multi_update"}, f"generated kernel kinds never launched on sim: " \
        f"{sorted({'map', 'reduce', 'multi_update'} - kinds)}"
