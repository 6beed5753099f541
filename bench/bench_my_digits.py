"""My digits: concurrent saves, and what adapting to one hand gains and what it loses.

1. saves: ``--threads`` sessions saving ``--saves`` digits each at once into a
   fresh database (core.storage); rows found afterwards, seconds, saves a second.
2. adapt: the 100-digit personal set of tests/personal.py (one finger-drawn hand,
   not MNIST), saved and read back through core.storage, then the shipped
   ten-class model against the adapted one: on the saved digits (the adapted
   one by k-fold cross-validation: each digit read by a model that did not
   train on it) and on MNIST's 10,000 test digits; one line per weight.

Run from the repository root (MNIST via MNIST_DIR or --data-dir):
``.venv/bin/python -m bench.bench_my_digits [--weights 1 10 30] [--mnist-size 10000]``
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from core.adapt import AdaptConfig, adapt, mnist_sample
from core.data import load_split
from core.model import load_model
from core.preprocess import preprocess
from core.storage import DigitStore
from tests.personal import personal_set


def bench_saves(directory: Path, threads: int, saves: int) -> None:
    path = directory / "saves.sqlite3"
    DigitStore(path)
    image = np.zeros((28, 28), np.uint8)
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def session() -> None:
        store = DigitStore(path)
        start.wait()
        try:
            for i in range(saves):
                # Each save its own input: the same input again would only relabel its row.
                raw = b"%d-%d" % (threading.get_ident(), i) + b"x" * 2_000
                store.add(i % 10, image, raw=raw, predicted=i % 10, model="ten-class")
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=session) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - began
    rows = len(DigitStore(path))
    print(
        f"saves: {threads} threads x {saves} = {threads * saves} saves -> {rows} rows, "
        f"{len(errors)} errors, {seconds:.2f} s ({threads * saves / seconds:.0f} saves/s)"
    )


def bench_adapt(directory: Path, args: argparse.Namespace) -> None:
    store = DigitStore(directory / "personal.sqlite3")
    pairs = personal_set(args.digits)
    store.add_many(
        (label, preprocess(data).pixels, data, None, "ten-class", None) for data, label in pairs
    )
    _, images, labels = store.arrays()
    base = load_model("ten-class")
    train = load_split("train", args.data_dir)
    test = load_split("test", args.data_dir)
    print(
        f"adapt: {len(labels)} saved digits (tests/personal.py), MNIST sample "
        f"{args.mnist_size}, {args.folds} folds"
    )
    for weight in args.weights:
        config = AdaptConfig(weight=weight, mnist_size=args.mnist_size, folds=args.folds)
        sample = mnist_sample(train, base, config.mnist_size, config.seed)
        result = adapt(base, images, labels, sample, test, config)
        print(
            f"  weight {weight:>5g}: saved digits shipped {result.base_saved['accuracy']:.1%} "
            f"-> adapted (held out) {result.adapted_saved['accuracy']:.1%}; "
            f"MNIST test shipped {result.base_mnist['accuracy']:.2%} "
            f"-> adapted {result.adapted_mnist['accuracy']:.2%}; {result.seconds:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--digits", type=int, default=100)
    parser.add_argument("--weights", type=float, nargs="+", default=[10.0])
    parser.add_argument("--mnist-size", type=int, default=AdaptConfig.mnist_size)
    parser.add_argument("--folds", type=int, default=AdaptConfig.folds)
    parser.add_argument("--data-dir")
    parser.add_argument("--skip-adapt", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-my-digits-") as tmp:
        bench_saves(Path(tmp), args.threads, args.saves)
        if not args.skip_adapt:
            bench_adapt(Path(tmp), args)


if __name__ == "__main__":
    main()
