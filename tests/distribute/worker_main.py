"""One worker of the multi-worker tests (run as a subprocess with TF_CONFIG set): trains the digits MLP
(64-128-10) under MultiWorkerMirroredStrategy and writes its final weights to --out (.npz, no pickle).

    --die-at EPOCH:BATCH   SIGKILLs itself at that batch of that epoch (a worker dying mid-epoch)
    --backup DIR           uses gf.keras.callbacks.BackupAndRestore(DIR)
    --checkpoint PATH      uses ModelCheckpoint(PATH with TASK replaced by the task index): only the chief writes
"""
import argparse
import os
import signal
import sys

import numpy as np

import gpuflow as gf
from gpuflow.runtime import counters
from _models import digits, mlp  # noqa: E402 - tests/distribute is the script's directory


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--backup", default=None)
    parser.add_argument("--die-at", default=None)
    parser.add_argument("--checkpoint", default=None, help="ModelCheckpoint path; TASK becomes the task index")
    parser.add_argument("--no-shuffle", action="store_true")
    args = parser.parse_args()

    strategy = gf.distribute.MultiWorkerMirroredStrategy()
    print(f"worker {strategy.cluster_resolver.task_id} of {strategy.extended._num_workers}, "
          f"replicas in sync: {strategy.num_replicas_in_sync}", flush=True)
    x, y = digits()
    gf.keras.utils.set_random_seed(1)  # the same shuffling on every worker (and the same as the reference run)
    with strategy.scope():
        model = mlp()
    callbacks = [gf.keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: print(f"epoch {epoch} begins", flush=True))]
    if args.die_at:
        die_epoch, die_batch = (int(v) for v in args.die_at.split(":"))
        state = {"epoch": -1}

        def maybe_die(batch, logs):
            if state["epoch"] == die_epoch and batch == die_batch:
                print("dying now", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        callbacks.append(gf.keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: state.update(epoch=epoch), on_train_batch_end=maybe_die))
    if args.backup:
        callbacks.append(gf.keras.callbacks.BackupAndRestore(args.backup))
    if args.checkpoint:
        path = args.checkpoint.replace("TASK", str(strategy.cluster_resolver.task_id))
        callbacks.append(gf.keras.callbacks.ModelCheckpoint(path, save_weights_only=True))
    with counters.measure() as measured:
        history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, callbacks=callbacks,
                            shuffle=not args.no_shuffle)
    print("loss:", history.history["loss"], flush=True)
    print(f"replica step traces: {model.train_function.experimental_get_tracing_count()}, "
          f"collectives: {measured.delta['collectives']}", flush=True)
    np.savez(args.out, *[w.numpy() for w in model.weights])
    strategy.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
