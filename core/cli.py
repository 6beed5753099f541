"""The command line: classify files, train, evaluate, fetch MNIST, export and import saved digits.

Every failure a user can cause ends in one line on stderr and exit status 1
(2 for a malformed command), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from core.adapt import evaluate_saved
from core.data import download_mnist, load_split
from core.errors import DigitLensError, StorageError
from core.model import (
    DigitModel,
    load_model,
    parse_model_name,
    shipped_model_names,
    write_manifest,
)
from core.preprocess import preprocess
from core.storage import DigitStore, export_dir, export_zip, import_path
from core.train import (
    AUGMENTATIONS,
    PENALTIES,
    SHIPPED_RECIPES,
    SOLVER_PENALTIES,
    TrainConfig,
    evaluate,
    task_config,
    task_data,
    train,
)
from core.verdict import TOO_SMALL, judge, lost_loop, sure_probability


def config_for(model: str, **parameters) -> TrainConfig:
    """The training config for a model name: ten-class, binary-A-B or A-vs-rest."""
    if (parsed := parse_model_name(model)) is None:
        raise DigitLensError(f"unknown model {model!r}: use ten-class, binary-A-B or A-vs-rest")
    task, digits = parsed
    return TrainConfig(task=task, digits=digits, **parameters)


def classify_record(model: DigitModel, path: str) -> dict:
    """What ``classify --json`` prints for one file (see the README).

    ``{"file", "label", "probabilities", "blank", "sure"}`` plus ``"why"`` when
    not sure, or ``{"file", "error"}`` for a file that cannot be read.
    """
    try:
        result = preprocess(path)
    except DigitLensError as error:
        return {"file": path, "error": str(error)}
    names = [str(c) for c in model.classes_]
    parts = model.contributions(result.pixels)  # the model's input and logits, transformed once
    probs = model.probabilities(parts.logits[None])[0]
    record = {
        "file": path,
        "label": None,
        "probabilities": {name: round(float(p), 6) for name, p in zip(names, probs, strict=True)},
        "blank": bool(result.is_blank),
        "sure": False,
        "why": TOO_SMALL if result.dot else "no digit found",
    }
    if not result.is_blank:
        verdict = judge(
            names,
            probs,
            result.stroke_ratio,
            sure_probability(model.card),
            lost_loop(result.loops, parts.model_input),
            sure_probability(model.card, "lost_loop_probability"),
            result.loops,
        )
        label = int(model.classes_[verdict.best])
        record.update(label=label, sure=verdict.sure, why=verdict.why)
        if verdict.sure:
            del record["why"]
    return record


def _classify(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    failed = False
    for path in args.paths:
        record = classify_record(model, path)
        failed = failed or "error" in record
        if args.json:
            print(json.dumps(record), flush=False)
        elif "error" in record:
            print(f"{path}: error: {record['error']}")
        elif record["blank"]:
            print(f"{path}: blank ({record['why']})")
        else:
            p = record["probabilities"][str(record["label"])]
            if record["sure"]:
                print(f"{path}: {record['label']} ({p:.1%})")
            else:
                print(f"{path}: {record['label']}? ({p:.1%}, not sure: {record['why']})")
    sys.stdout.flush()
    return 1 if failed else 0


def _train(args: argparse.Namespace) -> int:
    names = shipped_model_names() if args.model == "all" else [args.model]
    train_split = load_split("train", args.data_dir)
    test_split = load_split("test", args.data_dir)
    parameters = {
        "C": args.C,
        "penalty": args.penalty,
        "l1_ratio": args.l1_ratio,
        "solver": args.solver,
        "tol": args.tol,
        "max_iter": args.max_iter,
        "train_size": args.train_size,
        "seed": args.seed,
    }
    parameters = {k: v for k, v in parameters.items() if v is not None}
    for name in names:
        started = time.perf_counter()
        recipe = dict(SHIPPED_RECIPES.get(name, {}))
        if args.augment is not None:
            recipe["augment"] = args.augment
        if args.calibrate is not None:
            recipe["calibrate"] = args.calibrate == "yes"
        model = train(config_for(name, **parameters, **recipe), train_split, test_split)
        card_path = model.save(args.out)
        seconds = time.perf_counter() - started
        print(
            f"{model.name}: test accuracy {model.card['test']['accuracy']:.2%}, "
            f"fit {model.card['fit_seconds']:.1f} s, total {seconds:.1f} s -> {card_path}"
        )
    write_manifest(args.out)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    model: DigitModel = load_model(args.model)
    if args.on == "mine":
        store = DigitStore(args.db)
        _, images, labels = store.arrays()
        result = evaluate_saved(model, images, labels)
        if result is None:
            raise StorageError(
                f"no saved digits that {model.name} can read in {store.path}: save some in the "
                "app (Correct / It was a) or import an export"
            )
        where = f"saved digits ({store.path})"
    else:
        split = load_split("test", args.data_dir)
        images, labels = task_data(task_config(model), split.images, split.labels)
        result = evaluate(model, images, labels)
        where = "MNIST test images"
    if args.json:
        print(json.dumps({"model": model.name, "on": args.on, **result}))
        return 0
    print(f"{model.name}: accuracy {result['accuracy']:.2%} on {result['n']} {where}")
    for label, accuracy in result["per_class_accuracy"].items():
        print(f"  {label:>3}: " + ("no digits" if accuracy is None else f"{accuracy:.2%}"))
    return 0


def _export(args: argparse.Namespace) -> int:
    store = DigitStore(args.db)
    target = Path(args.out)
    if target.suffix == ".zip":
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(export_zip(store))
        except OSError as error:
            raise StorageError(f"cannot write {target}: {error.strerror}") from None
        written = [target]
    else:
        written = export_dir(store, target)
    print(f"exported {len(store)} digits from {store.path} to {', '.join(map(str, written))}")
    return 0


def _import(args: argparse.Namespace) -> int:
    store = DigitStore(args.db)
    ids = import_path(store, args.source)
    print(f"imported {len(ids)} digits into {store.path} (now {len(store)})")
    return 0


def _download(args: argparse.Namespace) -> int:
    def progress(message: str, fraction: float) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)

    target = download_mnist(args.out, progress)
    print(f"MNIST stored in {target}; use it with --data-dir {target} or MNIST_DIR={target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``python -m core``."""
    parser = argparse.ArgumentParser(
        prog="python -m core", description="Digit Lens: linear models that read handwriting."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    classify = commands.add_parser(
        "classify", help="classify image files", description="Classify image files of digits."
    )
    classify.add_argument("paths", nargs="+", metavar="PATH", help="image files")
    classify.add_argument("--model", default="ten-class", help="model name or path")
    classify.add_argument("--json", action="store_true", help="one JSON object per line")
    classify.set_defaults(run=_classify)

    data_help = "MNIST directory (default: $MNIST_DIR, else the download cache)"
    db_help = "saved-digits database (default: $DIGIT_LENS_DB, else digits.sqlite3 in the data dir)"
    trainer = commands.add_parser(
        "train",
        help="train a model on MNIST",
        description="Train on MNIST (all 60,000 unless --train-size) and write the model files.",
    )
    trainer.add_argument(
        "--model", required=True, help="ten-class, binary-A-B (A<B), A-vs-rest, or all shipped"
    )
    trainer.add_argument("--data-dir", help=data_help)
    trainer.add_argument("--out", default="trained-models", help="output directory")
    trainer.add_argument("--C", type=float, help="inverse regularisation strength")
    trainer.add_argument("--penalty", choices=PENALTIES)
    trainer.add_argument("--l1-ratio", type=float, help="L1 share for elasticnet, in (0, 1)")
    trainer.add_argument("--solver", choices=list(SOLVER_PENALTIES))
    trainer.add_argument("--tol", type=float)
    trainer.add_argument("--max-iter", type=int)
    trainer.add_argument("--train-size", type=int, help="random training subset size")
    trainer.add_argument("--seed", type=int)
    trainer.add_argument(
        "--augment",
        choices=AUGMENTATIONS,
        help="redraw: also train on redrawn digits; four-styles: also on 1s with a flag, "
        "crossed 7s, 8s with a small top loop and 9s with a hooked tail; "
        "four-styles+print: and on printed digits (as the shipped ten-class model); "
        "styles: the 1s, 7s and 8s; continental: the 1s and 7s",
    )
    trainer.add_argument(
        "--calibrate",
        choices=("yes", "no"),
        help="hold out digits and calibrate the probabilities and the sure rule on them, read "
        "by the whole pipeline (default: the shipped recipe, yes for ten-class only)",
    )
    trainer.set_defaults(run=_train)

    evaluator = commands.add_parser(
        "evaluate",
        help="measure a model on MNIST's test set or your saved digits",
        description="Evaluate a model.",
    )
    evaluator.add_argument("--model", default="ten-class", help="model name or path")
    evaluator.add_argument("--data-dir", help=data_help)
    evaluator.add_argument("--json", action="store_true", help="print one JSON object")
    evaluator.add_argument(
        "--on",
        choices=["mnist", "mine"],
        default="mnist",
        help="MNIST's test set (default) or your saved digits (a pair: those of its digits)",
    )
    evaluator.add_argument("--db", help=db_help)
    evaluator.set_defaults(run=_evaluate)

    exporter = commands.add_parser(
        "export",
        help="write your saved digits as MNIST IDX (gzip) + CSV",
        description="Write the saved digits as images-idx3-ubyte.gz, labels-idx1-ubyte.gz and "
        "digits.csv (id,label,predicted,model,time) into a directory, or a .zip of them.",
    )
    exporter.add_argument("out", metavar="OUT", help="a directory, or a file ending in .zip")
    exporter.add_argument("--db", help=db_help)
    exporter.set_defaults(run=_export)

    importer = commands.add_parser(
        "import",
        help="add digits from an export (directory or .zip)",
        description="Check an export (directory or .zip) and add all its digits, or none.",
    )
    importer.add_argument("source", metavar="SOURCE", help="an export directory or .zip")
    importer.add_argument("--db", help=db_help)
    importer.set_defaults(run=_import)

    download = commands.add_parser(
        "download-mnist",
        help="fetch MNIST from OpenML into the cache",
        description="Fetch MNIST with scikit-learn's fetch_openml and store it as IDX files.",
    )
    download.add_argument("--out", help="target directory (default: the per-user cache)")
    download.set_defaults(run=_download)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except DigitLensError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``classify ... | head``): nothing is left to tell it, and
        # Python's own flush at exit must not fail again on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE
