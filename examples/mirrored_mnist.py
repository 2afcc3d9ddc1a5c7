"""The MLP of mnist_mlp.py trained with tf.distribute's MirroredStrategy: one replica per device, the
global batch split across them, gradients summed over the replicas, every replica applying the same update.

With GPUs it uses every GPU (NCCL sums the gradients). Without one it splits the CPU into 2 logical devices
(cpu:0, cpu:1), as TensorFlow's tests do, so the same script runs anywhere; `--device sim` splits the
simulated GPU instead (our CUDA kernels, run on the CPU).

    python examples/mirrored_mnist.py                      # all GPUs, else 2 logical CPU devices
    python examples/mirrored_mnist.py --replicas 4         # 4 logical CPU devices (no GPU here)
    python examples/mirrored_mnist.py --dataset mnist --epochs 5
"""
import argparse

import gpuflow as gf
from mnist_mlp import load  # the same data, scaled to [0, 1], as the single-device example


def make_strategy(device, replicas):
    """Every GPU when there are some (and --device is not given); else `replicas` logical devices of the CPU
    (or of sim), made with gf.config.set_logical_device_configuration as in TF."""
    if device is None and gf.config.list_physical_devices("GPU"):
        return gf.distribute.MirroredStrategy()
    kind = (device or "cpu").upper()
    physical = gf.config.list_physical_devices(kind)[0]
    gf.config.set_logical_device_configuration(physical, [gf.config.LogicalDeviceConfiguration()] * replicas)
    return gf.distribute.MirroredStrategy([d.name for d in gf.config.list_logical_devices(kind)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None, help="default: 40 on digits, 5 on mnist")
    parser.add_argument("--batch-size-per-replica", type=int, default=32)
    parser.add_argument("--replicas", type=int, default=2, help="logical devices to use when there is no GPU")
    parser.add_argument("--device", choices=["cpu", "sim"], default=None,
                        help="split this device instead of using GPUs (default: GPUs if any, else cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    strategy = make_strategy(args.device, args.replicas)
    global_batch = args.batch_size_per_replica * strategy.num_replicas_in_sync
    epochs = args.epochs or (40 if args.dataset == "digits" else 5)
    print(f"replicas: {strategy.num_replicas_in_sync} on {', '.join(strategy.extended.worker_devices)}  "
          f"global batch: {global_batch}")
    gf.keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.dataset)

    with strategy.scope():  # weights and optimizer state made here are mirrored: one copy per replica
        model = gf.keras.models.Sequential([
            gf.keras.layers.Flatten(input_shape=x_train.shape[1:]),
            gf.keras.layers.Dense(128, activation="relu"),
            gf.keras.layers.Dropout(0.2),
            gf.keras.layers.Dense(10),
        ])
        model.compile(optimizer="adam", loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])

    # The batch size given to fit is the global batch: each step splits it across the replicas.
    model.fit(x_train, y_train, epochs=epochs, batch_size=global_batch, verbose=0 if args.quiet else 2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss: {loss:.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
