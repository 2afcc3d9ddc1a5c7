"""Streams tests: each test leaves the sim engine as it found it (nothing queued, the seed from the environment)."""
import pytest

from gpuflow.runtime import scheduler
from gpuflow.runtime.sim.queues import engine


@pytest.fixture(autouse=True)
def clean_engine():
    yield
    engine().reset()
    engine().reseed()
    scheduler.set_enabled(True)
