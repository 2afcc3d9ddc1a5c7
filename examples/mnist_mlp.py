"""The MLP from TensorFlow's "TensorFlow 2 quickstart for beginners", written with gpuflow.

The code is the tutorial's, with `import tensorflow as tf` replaced by `import gpuflow as gf`:
Flatten -> Dense(128, relu) -> Dropout(0.2) -> Dense(10) logits, trained with Adam on
SparseCategoricalCrossentropy(from_logits=True), then wrapped with Softmax to output probabilities.

By default it trains on the 8x8 handwritten digits that ship inside gpuflow (no download);
`--dataset mnist` uses the real 28x28 MNIST (downloaded once, like `tf.keras.datasets.mnist`).

    python examples/mnist_mlp.py                      # digits, cuda when a GPU is usable, else cpu
    python examples/mnist_mlp.py --dataset mnist --epochs 5
    python examples/mnist_mlp.py --device sim --epochs 1 --limit 256   # our CUDA kernels, simulated on the CPU
"""
import argparse

import gpuflow as gf


def load(dataset, limit=None):
    """(x_train, y_train), (x_test, y_test) with pixels scaled to [0, 1], as in the tutorial."""
    if dataset == "digits":
        (x_train, y_train), (x_test, y_test) = gf.keras.datasets.digits.load_data()
        scale = 16.0  # digits pixels count ink in 4x4 blocks: 0..16
    else:
        (x_train, y_train), (x_test, y_test) = gf.keras.datasets.mnist.load_data()
        scale = 255.0  # the tutorial's `x_train / 255.0`
    x_train, x_test = x_train.astype("float32") / scale, x_test.astype("float32") / scale
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    return (x_train, y_train), (x_test, y_test)


def build_model(input_shape):
    return gf.keras.models.Sequential([
        gf.keras.layers.Flatten(input_shape=input_shape),
        gf.keras.layers.Dense(128, activation="relu"),
        gf.keras.layers.Dropout(0.2),
        gf.keras.layers.Dense(10),  # logits: the loss applies the softmax (from_logits=True)
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None, help="default: 70 on digits, 5 on mnist")
    parser.add_argument("--batch-size", type=int, default=32, help="Keras' default batch size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "sim"], default=None,
                        help="default: cuda when a GPU is usable, else cpu")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress output")
    args = parser.parse_args()

    # The tutorial's 5 epochs are for 60,000 MNIST images; the 1,438 digits need more passes to settle
    # (this MLP tops out near 97-98% on digits; 70 epochs get there for every seed we tried).
    epochs = args.epochs or (70 if args.dataset == "digits" else 5)
    device = args.device or ("cuda" if gf.config.list_physical_devices("GPU") else "cpu")
    gf.keras.utils.set_random_seed(args.seed)  # same initial weights, dropout masks and shuffling each run

    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.limit)
    print(f"device: {device}  dataset: {args.dataset}  train: {len(x_train)}  test: {len(x_test)}  "
          f"image: {x_train.shape[1:]}")

    with gf.device(device):  # as `with tf.device(...)`: weights and every op live on this device
        model = build_model(x_train.shape[1:])

        # The untrained model's logits, turned into probabilities (about 1/10 each), as the tutorial shows.
        predictions = model(x_train[:1]).numpy()
        print("untrained probabilities:", gf.nn.softmax(predictions).numpy().round(2))

        loss_fn = gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=epochs, batch_size=args.batch_size, verbose=0 if args.quiet else 2)
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0 if args.quiet else 2)

        # To return probabilities, wrap the trained model and attach the softmax to it.
        probability_model = gf.keras.Sequential([model, gf.keras.layers.Softmax()])
        print("probabilities of the first 2 test images:\n", probability_model(x_test[:2]).numpy().round(3))
        print("their labels:", y_test[:2])

    print(f"test loss: {loss:.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
