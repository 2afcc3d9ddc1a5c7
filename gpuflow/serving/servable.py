"""One loaded version of a model: its SavedModel's signatures, run on NumPy inputs, and its metadata in TF
Serving's JSON shape (GetModelMetadataResponse's signature_def map)."""
from __future__ import annotations

import time

import numpy as np

from .errors import invalid, not_found

_DT = {"float16": "DT_HALF", "bfloat16": "DT_BFLOAT16", "float32": "DT_FLOAT", "float64": "DT_DOUBLE",
       "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8",
       "uint32": "DT_UINT32", "bool": "DT_BOOL"}
DEFAULT_SIGNATURE = "serving_default"


class Servable:
    def __init__(self, name, version, path, loaded, load_seconds):
        self.name, self.version, self.path = name, version, path
        self.signatures = loaded.signatures
        self.load_seconds = load_seconds
        self.batcher = None   # a batching.Batcher when --enable_batching

    @classmethod
    def load(cls, name, version, path):
        from .. import saved_model
        start = time.perf_counter()
        loaded = saved_model.load(path)
        servable = cls(name, version, path, loaded, time.perf_counter() - start)
        servable.warm_up()
        return servable

    def warm_up(self):
        """Runs each signature once on a row of zeros where its input shapes allow, so that the first request
        does not pay for making the replay plans, and a model that cannot run fails its load, not requests."""
        for key, function in self.signatures.items():
            shapes = [tuple(spec.shape) for _, spec in function.inputs]
            if all(s and s[0] is None and None not in s[1:] for s in shapes):
                function(**{n: np.zeros((1,) + tuple(spec.shape)[1:], spec.dtype.np) for n, spec in function.inputs})

    def signature(self, key):
        function = self.signatures.get(key or DEFAULT_SIGNATURE)
        if function is None:
            raise not_found(f"Serving signature name: \"{key or DEFAULT_SIGNATURE}\" not found in signature def "
                            f"(model {self.name} version {self.version} has {sorted(self.signatures)})")
        return function

    def run(self, key, inputs: dict) -> dict:
        """{output name: NumPy array} of signature `key` on {input name: NumPy array}."""
        from ..errors import InvalidArgumentError
        try:
            outputs = self.signature(key)(**inputs)
        except (InvalidArgumentError, TypeError) as e:
            raise invalid(str(e)) from None
        return {name: t.numpy() for name, t in outputs.items()}

    def metadata(self) -> dict:
        return {"model_spec": {"name": self.name, "signature_name": "", "version": str(self.version)},
                "metadata": {"signature_def": {"signature_def": {
                    key: {"inputs": {n: _tensor_info(n, s) for n, s in f.inputs},
                          "outputs": {n: _tensor_info(n, s) for n, s in f.outputs},
                          "method_name": "tensorflow/serving/predict"}
                    for key, f in sorted(self.signatures.items())}}}}


def _tensor_info(name, spec) -> dict:
    # proto3 JSON: int64 sizes are strings, an unknown size is "-1"
    return {"dtype": _DT[spec.dtype.name], "name": f"{name}:0",
            "tensor_shape": {"dim": [{"size": str(-1 if d is None else d), "name": ""} for d in spec.shape],
                             "unknown_rank": False}}
