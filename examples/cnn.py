"""A small convolutional network (Conv2D / MaxPooling2D / Flatten / Dense), as in TensorFlow's CNN tutorial.

Digits are 8x8 grayscale images; Conv2D wants a channels axis, so they become (8, 8, 1) arrays
(`x[..., None]`, the same as `tf.expand_dims(x, -1)`). `--dataset mnist` uses 28x28 MNIST.

    python examples/cnn.py
    python examples/cnn.py --dataset mnist --epochs 3
"""
import argparse

import gpuflow as gf


def load(dataset, limit=None):
    if dataset == "digits":
        (x_train, y_train), (x_test, y_test) = gf.keras.datasets.digits.load_data()
        scale = 16.0
    else:
        (x_train, y_train), (x_test, y_test) = gf.keras.datasets.mnist.load_data()
        scale = 255.0
    # Scale to [0, 1] and add the channels axis: (n, 8, 8) -> (n, 8, 8, 1) ("channels_last", Keras' default).
    x_train = x_train[..., None].astype("float32") / scale
    x_test = x_test[..., None].astype("float32") / scale
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    return (x_train, y_train), (x_test, y_test)


def build_model(input_shape):
    layers = gf.keras.layers
    return gf.keras.Sequential([
        gf.keras.Input(shape=input_shape),
        layers.Conv2D(32, 3, padding="same", activation="relu"),  # 'same' keeps 8x8: the images are tiny
        layers.MaxPooling2D(2),                                    # 8x8 -> 4x4
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),                                    # 4x4 -> 2x2
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(64, activation="relu"),
        layers.Dense(10),                                          # logits
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None, help="default: 30 on digits, 3 on mnist")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "sim"], default=None,
                        help="default: cuda when a GPU is usable, else cpu")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress output")
    args = parser.parse_args()

    epochs = args.epochs or (30 if args.dataset == "digits" else 3)
    device = args.device or ("cuda" if gf.config.list_physical_devices("GPU") else "cpu")
    gf.keras.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.limit)
    print(f"device: {device}  dataset: {args.dataset}  train: {len(x_train)}  test: {len(x_test)}  "
          f"image: {x_train.shape[1:]}")

    with gf.device(device):
        model = build_model(x_train.shape[1:])
        if not args.quiet:
            model.summary()
        # Adam whose learning rate decays from 2e-3 to 0 along a cosine over the whole run: large steps
        # early, small ones at the end, so the final weights do not jitter from epoch to epoch.
        steps = epochs * -(-len(x_train) // args.batch_size)  # batches per epoch, rounded up
        schedule = gf.keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
        model.compile(optimizer=gf.keras.optimizers.Adam(learning_rate=schedule),
                      loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=epochs, batch_size=args.batch_size, verbose=0 if args.quiet else 2)
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)

    print(f"test loss: {loss:.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
