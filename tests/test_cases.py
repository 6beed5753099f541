"""Every reported input in ../shared/cases reads as its ``expect`` column says.

The cases stand for the failure kinds of real handwriting (light edges, small
ballpoint digits, thick strokes, small digits with a wide pen, frames, loops,
blur) and the inputs that always read right; each is read through exactly what
``python -m core classify --json`` prints, with the shipped ten-class model.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core.cli import classify_record
from core.model import load_model

CASES = Path(__file__).resolve().parent.parent.parent / "shared" / "cases"
ROWS = []
if (CASES / "labels.csv").is_file():
    with open(CASES / "labels.csv", newline="") as handle:
        ROWS = list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def model():
    return load_model("ten-class")


@pytest.mark.skipif(not ROWS, reason=f"no cases in {CASES}")
@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_case_reads_as_expected(model, row):
    record = classify_record(model, str(CASES / row["file"]))
    assert "error" not in record, record.get("error")
    if row["expect"] == "blank":
        assert record["blank"], f"{row['file']}: read {record['label']}, expected no digit"
        return
    assert not record["blank"], f"{row['file']}: read as blank, expected {row['label']}"
    right = str(record["label"]) == row["label"]
    if row["expect"] == "label-or-unsure":
        assert right or not record["sure"], (
            f"{row['file']}: read {record['label']} as sure, expected {row['label']} or not sure"
        )
    else:
        assert right, (
            f"{row['file']} (kind {row['kind']}): read {record['label']}, expected {row['label']}"
        )
