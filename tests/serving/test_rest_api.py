"""gpuflow-serve's REST API, talked to over HTTP on 127.0.0.1: status, metadata, predict in row and columnar
format, every error status, versions and labels from a model config file, and metrics. The digits model is
the subclassed model of examples/custom_training_loop.py, trained here and served by a process that never
imports its class; its predictions must equal model.predict."""
import re

import numpy as np
import pytest

import gpuflow as gf
from _server import Server, write_config
from example_models import build, predict

pytestmark = pytest.mark.serving


def _pair_model(seed):
    gf.keras.utils.set_random_seed(seed)
    a, b = gf.keras.Input((3,), name="age"), gf.keras.Input((2,), name="income")
    joined = gf.keras.layers.Concatenate()([a, b])
    return gf.keras.Model([a, b], [gf.keras.layers.Dense(1, name="score")(joined),
                                   gf.keras.layers.Dense(2, name="logits")(joined)])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    with gf.device("cpu"):
        digits, x = build("subclassed")
        digits.save(root / "digits" / "1")
        pairs = {v: _pair_model(v) for v in (1, 2)}
        for v, model in pairs.items():
            model.save(root / "pair" / str(v))
    config = write_config(root / "models.config", f"""
model_config_list {{
  config {{ name: "digits" base_path: "{root / 'digits'}" model_platform: "tensorflow" }}
  config {{
    name: "pair"  base_path: "{root / 'pair'}"
    model_version_policy {{ all {{}} }}
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
}}""")
    monitoring = write_config(root / "monitoring.config", "prometheus_config { enable: true }")
    server = Server([f"--model_config_file={config}", f"--monitoring_config_file={monitoring}"], root / "log.txt")
    try:
        server.wait_for("digits", lambda s: s.get(1) == "AVAILABLE")
        server.wait_for("pair", lambda s: s.get(1) == s.get(2) == "AVAILABLE")
        yield server, digits, x, pairs
    finally:
        server.stop()


def test_status(served):
    server = served[0]
    assert server.call("GET", "/v1/models/digits") == (200, {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]})
    status, body = server.call("GET", "/v1/models/pair")
    assert status == 200 and [v["version"] for v in body["model_version_status"]] == ["2", "1"]
    assert server.call("GET", "/v1/models/pair/versions/1")[1]["model_version_status"][0]["version"] == "1"
    assert server.call("GET", "/v1/models/pair/labels/canary")[1]["model_version_status"][0]["version"] == "2"
    assert server.call("GET", "/v1/models/pair/versions/7") == (404, {"error": "Could not find version 7 of "
                                                                                "model pair"})
    assert server.call("GET", "/v1/models/nothing")[0] == 404


def test_metadata(served):
    server = served[0]
    status, body = server.call("GET", "/v1/models/pair/versions/2/metadata")
    assert status == 200 and body["model_spec"] == {"name": "pair", "signature_name": "", "version": "2"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert signature["inputs"]["age"] == {"dtype": "DT_FLOAT", "name": "age:0", "tensor_shape": {
        "dim": [{"size": "-1", "name": ""}, {"size": "3", "name": ""}], "unknown_rank": False}}
    assert sorted(signature["outputs"]) == ["logits", "score"]
    assert server.call("GET", "/v1/models/digits/metadata")[1]["model_spec"]["version"] == "1"


def test_predict_rows_and_columns_equal_model_predict(served):
    server, digits, x, _ = served
    expected = predict(digits, x[:5])
    status, body = server.predict("digits", {"instances": x[:5].tolist()})
    assert status == 200
    np.testing.assert_allclose(np.array(body["predictions"]), expected, rtol=0, atol=1e-6)
    status, body = server.predict("digits", {"inputs": x[:5].tolist(), "signature_name": "serving_default"})
    assert status == 200
    np.testing.assert_allclose(np.array(body["outputs"]), expected, rtol=0, atol=1e-6)
    name = server.call("GET", "/v1/models/digits/metadata")[1]["metadata"]["signature_def"]["signature_def"][
        "serving_default"]["inputs"]
    (input_name,) = name
    status, body = server.predict("digits", {"instances": [{input_name: row} for row in x[:2].tolist()]})
    np.testing.assert_allclose(np.array(body["predictions"]), expected[:2], rtol=0, atol=1e-6)


def test_named_inputs_and_outputs(served):
    server, _, _, pairs = served
    age, income = np.arange(6, dtype="float32").reshape(2, 3), np.ones((2, 2), "float32")
    score, logits = pairs[1].predict([age, income], verbose=0)
    rows = [{"age": a, "income": i} for a, i in zip(age.tolist(), income.tolist())]
    status, body = server.predict("pair/labels/stable", {"instances": rows})
    assert status == 200 and len(body["predictions"]) == 2 and sorted(body["predictions"][0]) == ["logits", "score"]
    np.testing.assert_allclose([r["logits"] for r in body["predictions"]], logits, atol=1e-6)
    status, body = server.predict("pair/versions/1", {"inputs": {"age": age.tolist(), "income": income.tolist()}})
    assert status == 200
    np.testing.assert_allclose(body["outputs"]["score"], score, atol=1e-6)
    canary = pairs[2].predict([age, income], verbose=0)[1]
    status, body = server.predict("pair/labels/canary", {"inputs": {"age": age.tolist(), "income": income.tolist()}})
    np.testing.assert_allclose(body["outputs"]["logits"], canary, atol=1e-6)
    status, body = server.predict("pair", {"inputs": {"age": age.tolist(), "income": income.tolist()}})
    np.testing.assert_allclose(body["outputs"]["logits"], canary, atol=1e-6)  # the latest version answers


@pytest.mark.parametrize("path, body, raw, status, message", [
    ("digits", None, b"{not json", 400, "JSON Parse error"),
    ("digits", None, b"[" * 100000, 400, "JSON Parse error"),
    ("digits", [1, 2], None, 400, "must be a JSON object"),
    ("digits", {"signature_name": "serving_default"}, None, 400, "Missing 'inputs' or 'instances' key"),
    ("digits", {"instances": [], "inputs": []}, None, 400, "cannot have both"),
    ("digits", {"instances": []}, None, 400, "non-empty"),
    ("digits", {"instances": [[1.0, 2.0]]}, None, 400, r"has shape \[1, 2\]"),
    ("digits", {"instances": [[[1, 2], [3]]]}, None, 400, "rectangular"),
    ("digits", {"inputs": [["a"] * 8] * 8}, None, 400, "expected numbers"),
    ("pair", {"instances": [{"age": [1, 2, 3]}]}, None, 400, r"missing input\(s\) \['income'\]"),
    ("pair", {"inputs": {"age": [[1, 2, 3]], "income": [[1, 2]], "x": 1}}, None, 400, r"unknown input\(s\) \['x'\]"),
    ("pair", {"instances": [[1, 2, 3]]}, None, 400, "each instance must be an object"),
    ("digits", {"instances": [[0] * 8] * 8, "signature_name": "nope"}, None, 404, "Serving signature name"),
    ("nothing", {"instances": [1]}, None, 404, r"Servable not found for request: Latest\(nothing\)"),
    ("digits/versions/5", {"instances": [1]}, None, 404, r"Specific\(digits, 5\)"),
    ("pair/labels/beta", {"instances": [1]}, None, 404, "Unrecognized servable version label: beta"),
])
def test_predict_errors(served, path, body, raw, status, message):
    got, answer = served[0].call("POST", f"/v1/models/{path}:predict", body, raw=raw)
    assert got == status and set(answer) == {"error"}
    assert re.search(message, answer["error"]), answer


def test_classify_regress_and_malformed_paths(served):
    server = served[0]
    for verb in ("classify", "regress"):
        status, body = server.call("POST", f"/v1/models/digits:{verb}", {"examples": [{"x": 1.0}]})
        assert status == 501 and "gpuflow serves the predict API" in body["error"]
    assert server.call("GET", "/v1/models/digits:predict")[0] == 400   # wrong method: TF's "Malformed request"
    assert server.call("GET", "/v2/anything")[0] == 404


def test_metrics_count_requests_by_status(served):
    server = served[0]
    server.predict("digits/versions/5", {"instances": [1]})
    text = server.metrics()
    assert 'gpuflow_serving_request_count_total{api="predict",model="digits",status="NOT_FOUND",version=""}' in text
    assert 'api="predict",model="digits",status="OK",version="1"' in text
    assert 'gpuflow_serving_model_load_seconds{model="pair",version="2"}' in text
    assert "gpuflow_serving_request_latency_seconds_bucket" in text
