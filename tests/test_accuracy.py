"""The measured error tables on the rule pages (tests/accuracy.py) are current and mean what they say."""

from __future__ import annotations

import json

import accuracy
import numpy as np
import pytest

from stablelint import docs

# NumPy's exp/log kernels may differ by an ulp between versions and CPUs: a mean may move by
# a fraction of a bit and a worst case by a bit or two; what is rescued does not change.
TOLERANCE = {"original_mean": 0.5, "fixed_mean": 0.5, "original_worst": 2.0, "fixed_worst": 2.0, "rescued": 0.02}


def test_error_bits_counts_floats_between():
    one = np.float32(1.0)
    next_up = np.nextafter(one, np.float32(2.0))
    assert accuracy.error_bits(np.array([1.0]), np.array([1.0]), "float32")[0] == 0.0
    assert accuracy.error_bits(np.array([float(next_up)]), np.array([1.0]), "float32")[0] == 1.0
    three_up = np.nextafter(np.nextafter(next_up, np.float32(2.0)), np.float32(2.0))
    assert accuracy.error_bits(np.array([float(three_up)]), np.array([1.0]), "float32")[0] == 2.0  # log2(1 + 3)
    assert accuracy.error_bits(np.array([np.nan]), np.array([1.0]), "float16")[0] == 16.0
    # across zero: -tiny and +tiny are two floats apart
    tiny = float(np.finfo(np.float64).smallest_subnormal)
    assert accuracy.error_bits(np.array([-tiny]), np.array([tiny]), "float64")[0] == pytest.approx(np.log2(3))
    # inf is the float after the largest one
    largest = float(np.finfo(np.float16).max)
    assert accuracy.error_bits(np.array([np.inf]), np.array([largest]), "float16")[0] == 1.0


def test_stored_measurements_are_current():
    stored = json.loads(accuracy.STORED.read_text(encoding="utf-8"))["rules"]
    fresh = accuracy.measure()["rules"]

    def keys(rules):
        return sorted((code, row["original"], row["fixed"], row["dtype"]) for code, rows in rules.items() for row in rows)

    assert keys(fresh) == keys(stored), "examples changed: run python tests/accuracy.py"
    for code, rows in fresh.items():
        for new, old in zip(rows, stored[code]):
            assert new["samples"] == old["samples"], (code, new["original"], new["dtype"])
            for name, tolerance in TOLERANCE.items():
                if new.get(name) is None or old.get(name) is None:
                    assert new.get(name) == old.get(name)
                    continue
                assert abs(new[name] - old[name]) <= tolerance, (code, new["original"], new["dtype"], name, old, new)


def test_every_measured_rule_shows_its_table():
    measured = json.loads(accuracy.STORED.read_text(encoding="utf-8"))
    pages = docs.pages()
    for code in measured["rules"]:
        assert "### What the fix buys (measured)" in pages[f"{code}.md"], code


def test_a_fix_that_repairs_overflow_is_measured_as_such():
    # log(1 + exp(x)) overflows beyond 88.7 in float32: the fix must rescue those inputs and be
    # correctly rounded or nearly so everywhere, the original must not.
    from stablelint.rules.logexp import NaiveSoftplus

    example = next(e for e in NaiveSoftplus.invalid if e.framework == "numpy")
    row = accuracy.measure_example(example, "float32")
    assert row["rescued"] > 0.05
    assert row["fixed_worst"] <= 2.0 < row["original_worst"]
