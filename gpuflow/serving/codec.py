"""Predict requests and responses in TF Serving's REST JSON (api_rest.md).

Request: {"signature_name"?: str, "instances": [...]} (row format: one entry per example, each the single input's
value or an object of named inputs) or {"inputs": ...} (columnar: the single input's value, or an object of
named inputs), never both. Response: {"predictions": ...} for rows (a list of values with one output, a list of
objects with several), {"outputs": ...} for columns (a value with one output, an object with several).
NaN and Infinity are read and written as the JSON tokens TF Serving uses.
"""
from __future__ import annotations

import json

import numpy as np

from ..errors import InvalidArgumentError
from ..saved_model.loaded import as_array
from .errors import invalid


class PredictRequest:
    __slots__ = ("signature_name", "inputs", "row_format", "rows")

    def __init__(self, signature_name, inputs, row_format, rows):
        self.signature_name, self.inputs, self.row_format, self.rows = signature_name, inputs, row_format, rows


def parse_body(body: bytes) -> dict:
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise invalid(f"JSON Parse error: {e}") from None
    if not isinstance(request, dict):
        raise invalid("JSON Value: the request body must be a JSON object")
    return request


def parse_predict(request: dict, servable) -> PredictRequest:
    """The named NumPy inputs of a predict request, checked against its signature's names and dtypes."""
    signature_name = request.get("signature_name", "")
    if not isinstance(signature_name, str):
        raise invalid("'signature_name' must be a string")
    function = servable.signature(signature_name)
    has_rows, has_columns = "instances" in request, "inputs" in request
    if has_rows == has_columns:
        raise invalid("Missing 'inputs' or 'instances' key" if not has_rows
                      else "Not a valid JSON request: cannot have both 'instances' and 'inputs' keys")
    unknown = sorted(set(request) - {"signature_name", "instances", "inputs"})
    if unknown:
        raise invalid(f"Not a valid JSON request: unknown key(s) {unknown}")
    specs = dict(function.inputs)
    if has_rows:
        values, rows = _rows(request["instances"], list(specs))
    else:
        values, rows = _columns(request["inputs"], list(specs)), None
    inputs = {}
    for name, value in values.items():
        spec = specs[name]
        try:
            array = as_array(value, spec.dtype, f"input {name}")
        except InvalidArgumentError as e:
            raise invalid(str(e)) from None
        if not spec.is_compatible_with(_Spec(array.shape, spec.dtype)):
            wanted = ", ".join("?" if d is None else str(d) for d in spec.shape)
            raise invalid(f"input {name} has shape {list(array.shape)}, signature {function.name!r} takes "
                          f"{spec.dtype.name}[{wanted}]")
        inputs[name] = array
    return PredictRequest(signature_name, inputs, has_rows, rows)


class _Spec:
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def _rows(instances, names):
    if not isinstance(instances, list) or not instances:
        raise invalid("'instances' must be a non-empty JSON list, one entry per example")
    named = [isinstance(row, dict) for row in instances]
    if any(named) and not all(named):
        raise invalid("'instances' mixes objects of named inputs with plain values; use one form for every row")
    if not named[0]:
        if len(names) != 1:
            raise invalid(f"the signature takes {len(names)} inputs {names}: each instance must be an object "
                          f"naming them")
        return {names[0]: instances}, len(instances)
    columns = {}
    for i, row in enumerate(instances):
        _check_names(row, names, f"instance {i}")
        for name in names:
            columns.setdefault(name, []).append(row[name])
    return columns, len(instances)


def _columns(inputs, names):
    if isinstance(inputs, dict):  # a tensor is never an object: this names the inputs
        _check_names(inputs, names, "'inputs'")
        return dict(inputs)
    if len(names) != 1:
        raise invalid(f"the signature takes {len(names)} inputs {names}: 'inputs' must be an object naming them")
    return {names[0]: inputs}


def _check_names(value, names, what):
    missing, unknown = [n for n in names if n not in value], sorted(set(value) - set(names))
    if missing:
        raise invalid(f"{what}: missing input(s) {missing} (the signature takes {names})")
    if unknown:
        raise invalid(f"{what}: unknown input(s) {unknown} (the signature takes {names})")


def predict_response(outputs: dict, request: PredictRequest) -> dict:
    if not request.row_format:
        if len(outputs) == 1:
            return {"outputs": _json(next(iter(outputs.values())))}
        return {"outputs": {name: _json(value) for name, value in outputs.items()}}
    for name, value in outputs.items():
        if value.ndim == 0 or value.shape[0] != request.rows:
            raise invalid(f"Tensor name: {name} has inconsistent batch size: {value.shape[0] if value.ndim else 0} "
                          f"expecting: {request.rows}; use the columnar 'inputs' format for this signature")
    if len(outputs) == 1:
        return {"predictions": _json(next(iter(outputs.values())))}
    columns = {name: _json(value) for name, value in outputs.items()}
    return {"predictions": [{name: column[i] for name, column in columns.items()} for i in range(request.rows)]}


def _json(array: np.ndarray):
    if array.dtype.kind not in "biuf" or array.dtype == np.float16:
        array = array.astype(np.float64)  # bfloat16's and float16's tolist() give no Python floats
    return array.tolist()


def dumps(value) -> bytes:
    return json.dumps(value, allow_nan=True, separators=(",", ":")).encode("utf-8")
