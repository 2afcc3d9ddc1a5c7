import pytest

import gpuflow as gf
from gpuflow.keras.engine import registration


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with `dense`, `dense_1`, ... names and a fixed seed."""
    gf.keras.backend.clear_session()
    gf.keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def clean_registry():
    """Leaves the global custom-object registry as it was, for tests that register their own classes."""
    objects, names = dict(registration._GLOBAL_OBJECTS), dict(registration._GLOBAL_NAMES)
    yield
    registration._GLOBAL_OBJECTS.clear()
    registration._GLOBAL_OBJECTS.update(objects)
    registration._GLOBAL_NAMES.clear()
    registration._GLOBAL_NAMES.update(names)
