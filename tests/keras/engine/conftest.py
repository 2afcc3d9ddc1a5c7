import pytest

import gpuflow as gf


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with `dense`, `dense_1`, ... names and a fixed seed."""
    gf.keras.backend.clear_session()
    gf.keras.utils.set_random_seed(0)
    yield
