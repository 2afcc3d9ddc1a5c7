"""An LSTM classifier that reads each 8x8 digit as a sequence: 8 time steps (the rows, top to bottom),
each a vector of 8 features (the pixels of that row). `LSTM(64)` returns its last hidden state,
and a Dense layer turns it into 10 logits, as with `tf.keras.layers.LSTM`.

    python examples/lstm_sequence.py
"""
import argparse

import gpuflow as gf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "sim"], default=None,
                        help="default: cuda when a GPU is usable, else cpu")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress output")
    args = parser.parse_args()

    device = args.device or ("cuda" if gf.config.list_physical_devices("GPU") else "cpu")
    gf.keras.utils.set_random_seed(args.seed)

    # (n, 8, 8) images are already (batch, timesteps, features): the layout Keras RNN layers expect.
    (x_train, y_train), (x_test, y_test) = gf.keras.datasets.digits.load_data()
    x_train, x_test = x_train.astype("float32") / 16.0, x_test.astype("float32") / 16.0
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"device: {device}  dataset: digits as sequences  train: {len(x_train)}  test: {len(x_test)}  "
          f"(timesteps, features): {x_train.shape[1:]}")

    with gf.device(device):
        model = gf.keras.Sequential([
            gf.keras.Input(shape=(8, 8)),
            gf.keras.layers.LSTM(64),      # return_sequences=False: only the last step's output
            gf.keras.layers.Dense(10),     # logits
        ])
        model.compile(optimizer=gf.keras.optimizers.Adam(learning_rate=3e-3),
                      loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0 if args.quiet else 2)
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)

    print(f"test loss: {loss:.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
