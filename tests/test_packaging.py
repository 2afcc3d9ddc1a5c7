"""The wheel carries what the installed package needs: every kernel source, the simulator header,
the kernel instantiation list and the embedded digits data."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, cwd=out)
    (whl,) = out.glob("gpuflow-*.whl")
    return set(zipfile.ZipFile(whl).namelist())


def test_every_kernel_source_ships_in_the_wheel(wheel_names):
    for path in (ROOT / "kernels").rglob("*"):
        if path.suffix in (".cu", ".cuh", ".h", ".txt"):
            assert f"gpuflow/_kernels/{path.relative_to(ROOT / 'kernels')}" in wheel_names, path


def test_every_package_ships_in_the_wheel(wheel_names):
    for init in (ROOT / "gpuflow").rglob("__init__.py"):
        assert str(init.relative_to(ROOT)) in wheel_names, init


def test_embedded_datasets_ship_in_the_wheel(wheel_names):
    data = ROOT / "gpuflow" / "keras" / "datasets" / "data"
    for path in data.glob("*"):
        assert str(path.relative_to(ROOT)) in wheel_names, path
