"""The model-server tests need the serving extra; without it they skip (CI installs it)."""
import pytest

for module in ("starlette", "uvicorn", "prometheus_client"):
    pytest.importorskip(module, reason="gpuflow[serving] is not installed")
