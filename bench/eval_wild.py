"""Accuracy of the shipped models on the wild set: canvas drawings and photos, not MNIST.

The set comes from ``tests/wild.py`` (different pens, sizes, positions; paper
photos with uneven light, JPEG, EXIF rotation, chalk on a board).
Run from the repository root: ``.venv/bin/python -m bench.eval_wild [--model NAME]``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from core.model import load_model
from core.preprocess import preprocess
from tests.wild import iter_wild_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="ten-class")
    parser.add_argument("--misses", action="store_true", help="list every misread file")
    args = parser.parse_args()
    model = load_model(args.model)
    groups: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for name, data, label in iter_wild_set():
        result = preprocess(data)
        predicted = None if result.is_blank else int(model.predict(result.pixels[None])[0])
        right = predicted == label
        parts = Path(name).stem.split("_")
        keys = ["all", parts[0]]
        if parts[0] == "canvas":
            keys += [f"canvas {parts[3]}", f"canvas {parts[4]}", f"canvas {parts[3]} {parts[4]}"]
        else:
            keys += [f"photo {parts[3]}"]
        for key in keys:
            groups[key].append(right)
        if not right:
            misses.append(f"{name}: read {predicted}")
    print(f"model {model.name}: accuracy on the wild set")
    for key, hits in groups.items():
        print(f"  {key:<24} {sum(hits) / len(hits):7.1%}  ({sum(hits)}/{len(hits)})")
    if args.misses:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
