"""A custom training loop, in the style of TensorFlow's "advanced quickstart" / "writing a training loop":
a subclassed `gf.keras.Model`, a `gf.data.Dataset` pipeline, `gf.GradientTape` and `apply_gradients`.

    python examples/custom_training_loop.py
"""
import argparse

import gpuflow as gf


class MyModel(gf.keras.Model):
    """Layers are created in __init__ and used in call(), as with a subclassed tf.keras.Model."""

    def __init__(self):
        super().__init__()
        self.flatten = gf.keras.layers.Flatten()
        self.d1 = gf.keras.layers.Dense(128, activation="relu")
        self.dropout = gf.keras.layers.Dropout(0.2)
        self.d2 = gf.keras.layers.Dense(10)

    def call(self, x, training=None):
        x = self.flatten(x)
        x = self.d1(x)
        x = self.dropout(x, training=training)  # dropout only while training
        return self.d2(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "sim"], default=None,
                        help="default: cuda when a GPU is usable, else cpu")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch output")
    args = parser.parse_args()

    device = args.device or ("cuda" if gf.config.list_physical_devices("GPU") else "cpu")
    gf.keras.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = gf.keras.datasets.digits.load_data()
    x_train, x_test = x_train.astype("float32") / 16.0, x_test.astype("float32") / 16.0
    y_train, y_test = y_train.astype("int32"), y_test.astype("int32")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"device: {device}  dataset: digits  train: {len(x_train)}  test: {len(x_test)}")

    with gf.device(device):
        # tf.data-style input pipelines: shuffle the training set anew each epoch, then batch.
        train_ds = gf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train)).batch(args.batch_size)
        test_ds = gf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(256)

        model = MyModel()
        loss_object = gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer = gf.keras.optimizers.Adam()

        # Metrics accumulate over batches; result() reads them, reset_state() starts the next epoch.
        train_loss = gf.keras.metrics.Mean(name="train_loss")
        train_accuracy = gf.keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")
        test_accuracy = gf.keras.metrics.SparseCategoricalAccuracy(name="test_accuracy")

        def train_step(images, labels):
            with gf.GradientTape() as tape:
                predictions = model(images, training=True)
                loss = loss_object(labels, predictions)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            train_loss.update_state(loss)
            train_accuracy.update_state(labels, predictions)

        for epoch in range(args.epochs):
            train_loss.reset_state()
            train_accuracy.reset_state()
            for images, labels in train_ds:
                train_step(images, labels)
            if not args.quiet:
                print(f"epoch {epoch + 1}/{args.epochs}  loss: {float(train_loss.result()):.4f}  "
                      f"accuracy: {float(train_accuracy.result()):.4f}")

        for images, labels in test_ds:
            test_accuracy.update_state(labels, model(images, training=False))

    print(f"test accuracy: {float(test_accuracy.result()):.4f}")


if __name__ == "__main__":
    main()
