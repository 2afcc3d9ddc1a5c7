"""The primitive table and the backends' impl tables agree: every primitive runs on every device.

This is what lets the API reference say an op built from primitives runs on cpu, sim and cuda,
and what makes a new primitive family a new file (gpuflow/ops/__init__.py imports every module).
"""
import subprocess
import sys

from gpuflow import devices
from gpuflow.ops.dispatch import PRIMITIVES


def test_every_primitive_has_a_cpu_and_a_cuda_impl():
    for kind in ("cpu", "sim"):  # sim is the cuda backend's code: the same impl table
        impls = devices.parse(kind).backend.impls
        missing = sorted(set(PRIMITIVES) - set(impls))
        assert not missing, f"primitives with no impl on {kind}: {missing}"


def test_every_impl_implements_a_primitive():
    for kind in ("cpu", "sim"):
        stray = sorted(set(devices.parse(kind).backend.impls) - set(PRIMITIVES))
        assert not stray, f"{kind} impls named for no primitive (a typo, or a family not imported): {stray}"


def test_import_gpuflow_registers_every_family():
    # In a fresh interpreter: nothing but `import gpuflow` may be needed for a primitive to exist.
    code = ("import gpuflow; from gpuflow.ops.dispatch import PRIMITIVES; "
            "from gpuflow.backend.numpy import IMPLS; print(sorted(set(IMPLS) - set(PRIMITIVES)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"impls whose primitive only exists after some other import: {out}"
