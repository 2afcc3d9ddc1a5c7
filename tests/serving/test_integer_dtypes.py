"""gpuflow-serve over HTTP with integer dtypes beyond int32/int64: a signature taking uint8 pixels and an int16
offset and returning uint32, its metadata in TF Serving's DT_ names, JSON numbers decoded into those dtypes, and
values that do not fit refused with 400 as TF Serving refuses them."""
import re

import numpy as np
import pytest

import gpuflow as gf
from _server import Server

pytestmark = pytest.mark.serving


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    with gf.device("cpu"):
        f = gf.function(lambda pixels, offset: {"brightness": gf.reduce_sum(gf.cast(pixels, gf.uint32), axis=1),
                                                "shifted": offset + gf.constant(np.int16(1000))},
                        input_signature=[gf.TensorSpec((None, 4), "uint8", name="pixels"),
                                         gf.TensorSpec((None,), "int16", name="offset")])
        gf.saved_model.save(None, root / "m" / "1", signatures=f)
    server = Server(["--model_name=m", f"--model_base_path={root / 'm'}"], root / "log.txt")
    try:
        server.wait_for("m", lambda s: s == {1: "AVAILABLE"})
        yield server
    finally:
        server.stop()


def test_metadata_names_the_dtypes(served):
    status, body = served.call("GET", "/v1/models/m/metadata")
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert status == 200
    assert {n: t["dtype"] for n, t in signature["inputs"].items()} == {"pixels": "DT_UINT8", "offset": "DT_INT16"}
    assert {n: t["dtype"] for n, t in signature["outputs"].items()} == {"brightness": "DT_UINT32",
                                                                         "shifted": "DT_INT16"}


def test_predict_decodes_json_numbers_into_the_dtypes(served):
    rows = [{"pixels": [255, 255, 255, 255], "offset": 32000}, {"pixels": [0, 1, 2, 3], "offset": -5}]
    status, body = served.predict("m", {"instances": rows})
    assert status == 200, body
    assert body["predictions"] == [{"brightness": 1020, "shifted": -32536}, {"brightness": 6, "shifted": 995}]
    status, body = served.predict("m", {"inputs": {"pixels": [[7, 7, 7, 7.0]], "offset": [1]}})
    assert status == 200 and body["outputs"] == {"brightness": [28], "shifted": [1001]}


@pytest.mark.parametrize("inputs, message", [
    ({"pixels": [[256, 0, 0, 0]], "offset": [0]}, r"input pixels: holds 256, out of range for uint8 \(0 to 255\)"),
    ({"pixels": [[-1, 0, 0, 0]], "offset": [0]}, r"input pixels: holds -1, out of range for uint8"),
    ({"pixels": [[0, 0, 0, 0]], "offset": [40000]}, r"input offset: holds 40000, out of range for int16"),
    ({"pixels": [[0.5, 0, 0, 0]], "offset": [0]}, r"input pixels: has fractions but the signature takes uint8"),
])
def test_values_that_do_not_fit_are_refused(served, inputs, message):
    status, body = served.predict("m", {"inputs": inputs})
    assert status == 400 and set(body) == {"error"}
    assert re.search(message, body["error"]), body
