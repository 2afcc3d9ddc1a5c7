"""The model-server tests need the serving extra; without it each one skips, saying so (CI installs it)."""
import importlib.util

import pytest

MISSING = [m for m in ("starlette", "uvicorn", "prometheus_client") if importlib.util.find_spec(m) is None]


@pytest.fixture(autouse=True)
def _serving_extra():
    if MISSING:
        pytest.skip(f"gpuflow[serving] is not installed (missing {', '.join(MISSING)})")
