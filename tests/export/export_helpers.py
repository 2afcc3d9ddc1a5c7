"""Helpers of the export tests: running an exported file in the real runtime, and models built like the
examples' (examples/*.py are loaded from their files, so the tests export exactly what the examples build)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name):
    """examples/<name>.py as a module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tflite(model_bytes, *inputs):
    """Outputs of a .tflite model in LiteRT's interpreter, for batches of any size; int8 inputs and outputs are
    quantized / dequantized with the tensors' own parameters."""
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_content=model_bytes)
    details = interpreter.get_input_details()
    for d, x in zip(details, inputs):
        interpreter.resize_tensor_input(d["index"], x.shape)
    interpreter.allocate_tensors()
    for d, x in zip(interpreter.get_input_details(), inputs):
        if d["dtype"] == np.int8:
            scale, zero_point = d["quantization"]
            x = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
        interpreter.set_tensor(d["index"], x.astype(d["dtype"]) if d["dtype"] != np.int8 else x)
    interpreter.invoke()
    outputs = []
    for d in interpreter.get_output_details():
        y = interpreter.get_tensor(d["index"])
        if d["dtype"] == np.int8:
            scale, zero_point = d["quantization"]
            y = (y.astype(np.float32) - zero_point) * scale
        outputs.append(y)
    return outputs


def run_onnx(path, *inputs):
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), inputs)}), session


def keras_outputs(model, *inputs):
    out = model.predict(list(inputs) if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]
