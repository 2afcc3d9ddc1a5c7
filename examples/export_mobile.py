"""Train a small CNN on the digits, then export it for phones and other runtimes: a float32 .tflite, a
full-integer int8 .tflite (post-training quantization, as TF's TFLiteConverter does it) and an .onnx file.
Each file is run by the tool that reads it (LiteRT's interpreter, onnxruntime) on the test digits, and its
size and accuracy are printed next to the Keras model's.

    pip install "gpuflow[interop]"        # onnx, onnxruntime, tflite, flatbuffers, ai-edge-litert
    python examples/export_mobile.py --out-dir exported
"""
import argparse
import os
import tempfile

import numpy as np

import gpuflow as gf


def build_model():
    layers = gf.keras.layers
    return gf.keras.Sequential([
        gf.keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(32, 3, padding="same"),
        layers.BatchNormalization(momentum=0.9),  # folded into the convolution in both exports
        layers.ReLU(),                            # fused into the convolution
        layers.MaxPooling2D(2),                   # 8x8 -> 4x4
        layers.Conv2D(64, 3, padding="same"),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Flatten(),
        layers.Dropout(0.3),                      # the identity at inference: not in the exported files
        layers.Dense(128, activation="relu"),
        layers.Dense(10),
        layers.Softmax(),
    ])


def tflite_accuracy(model_bytes, x, y):
    """Accuracy of a .tflite model in LiteRT's interpreter; int8 inputs are quantized with the input's own
    scale and zero point, as an app feeding an int8 model does."""
    interpreter = gf.lite.Interpreter(model_content=model_bytes)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, x.shape)  # the batch dim is dynamic: run the whole test set at once
    interpreter.allocate_tensors()
    details = interpreter.get_input_details()[0]
    if details["dtype"] == np.int8:
        scale, zero_point = details["quantization"]
        x = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
    interpreter.set_tensor(index, x)
    interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    return float((scores.argmax(axis=1) == y).mean())


def onnx_accuracy(path, x, y):
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    scores = session.run(None, {session.get_inputs()[0].name: x})[0]
    return float((scores.argmax(axis=1) == y).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "sim"], default=None,
                        help="default: cuda when a GPU is usable, else cpu")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    parser.add_argument("--out-dir", default=None, help="where the files go (default: a temporary folder)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress output")
    args = parser.parse_args()

    device = args.device or ("cuda" if gf.config.list_physical_devices("GPU") else "cpu")
    gf.keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = gf.keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0  # (n, 8, 8, 1): channels last, as Conv2D wants
    x_test = x_test[..., None].astype("float32") / 16.0
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"device: {device}  dataset: digits  train: {len(x_train)}  test: {len(x_test)}")

    with gf.device(device):
        model = build_model()
        model.compile(optimizer=gf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0 if args.quiet else 2)
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)

    out_dir = args.out_dir or tempfile.mkdtemp(prefix="gpuflow_export_")
    os.makedirs(out_dir, exist_ok=True)
    paths = {name: os.path.join(out_dir, name) for name in ("model.tflite", "model_int8.tflite", "model.onnx")}

    # float32 TFLite: the same numbers as the Keras model (BatchNorm and ReLU folded into the convolutions).
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    float_bytes = converter.convert()

    # int8 TFLite: weights per channel, activations calibrated on 200 training digits, int8 inputs and outputs.
    def representative_dataset():
        for image in x_train[:200]:
            yield [image[None]]  # one list of model inputs per sample, each with a batch dim of 1

    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [gf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = np.int8
    converter.inference_output_type = np.int8
    int8_bytes = converter.convert()
    for name, data in (("model.tflite", float_bytes), ("model_int8.tflite", int8_bytes)):
        with open(paths[name], "wb") as f:
            f.write(data)

    gf.onnx.export(model, paths["model.onnx"], opset=17)

    float_size = os.path.getsize(paths["model.tflite"])
    rows = [("keras (float32)", None, accuracy),
            ("model.tflite (float32)", float_size, tflite_accuracy(float_bytes, x_test, y_test)),
            ("model_int8.tflite (int8)", os.path.getsize(paths["model_int8.tflite"]),
             tflite_accuracy(int8_bytes, x_test, y_test)),
            ("model.onnx (float32)", os.path.getsize(paths["model.onnx"]),
             onnx_accuracy(paths["model.onnx"], x_test, y_test))]
    print(f"files in {out_dir}")
    print(f"{'model':<28}{'bytes':>10}{'vs float':>10}{'accuracy':>10}")
    for name, size, acc in rows:
        shown = "-" if size is None else str(size)
        ratio = "-" if size is None else f"{float_size / size:.2f}x"
        print(f"{name:<28}{shown:>10}{ratio:>10}{acc:>10.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
