"""What each fix buys, measured: the error in bits of the original and of the fixed formula.

    python tests/accuracy.py      # re-measure, write docs/rules/accuracy.json, regenerate docs/rules/

For every rule, every NumPy example with a fix (``Invalid(..., framework="numpy")``) is
executed with NumPy/SciPy on the numeric harness's input regimes (ordinary values, beyond
exp's overflow, large negative, tiny, zeros, rows mixing one huge element, a sweep
-40…40; 8 × 8 elements each, fixed seeds) in float16, float32 and float64. The true value
of each output element is the harness's certified mpmath reference of the original
formula (``numeric_harness._exact``), correctly rounded to the dtype.

The error of a result is Herbie's: log2(1 + the number of floats of the dtype between the
result and the correctly rounded true value), 0 for the correctly rounded result, the
dtype's width (16, 32, 64) for nan. Elements whose true value does not exist (log of a
negative) are left out. ``rescued`` is the fraction of elements where the original is inf
or nan, the true value is finite, and the fix is finite.

Why a separate file: the measurement needs NumPy, SciPy and mpmath (test extras) and takes
seconds per rule, while ``python -m stablelint.docs`` must stay fast and dependency-free. The
pages are rendered from the stored numbers (their staleness test is exact); the stored
numbers are checked by re-measuring (tests/test_accuracy.py) with a tolerance, because
NumPy's exp/log kernels may differ by an ulp between versions and CPUs (SIMD paths):
means may move by a fraction of a bit, worst cases by a bit or two.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numeric_harness as harness  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "docs" / "rules" / "accuracy.json"
DTYPES = ("float16", "float32", "float64")
SHAPE = (8, 8)
SEED = 0
WIDTH = {"float16": 16, "float32": 32, "float64": 64}
_UNSIGNED = {"float16": np.uint16, "float32": np.uint32, "float64": np.uint64}


def ordinals(values: np.ndarray, dtype: str) -> np.ndarray:
    """Each float's position in the dtype's ordered set of floats (±0 both 0, inf next to max)."""
    bits = np.asarray(values, dtype=dtype).view(_UNSIGNED[dtype]).astype(np.uint64)
    sign = np.uint64(1) << np.uint64(WIDTH[dtype] - 1)
    magnitude = (bits & (sign - np.uint64(1))).astype(np.float64)
    return np.where((bits & sign) != 0, -magnitude, magnitude)


def error_bits(result: np.ndarray, truth: np.ndarray, dtype: str) -> np.ndarray:
    """Herbie's error: log2(1 + floats between result and the rounded truth); nan -> width."""
    result = np.asarray(result, dtype=np.float64).astype(dtype)
    with np.errstate(all="ignore"):
        distance = np.abs(ordinals(result, dtype) - ordinals(truth, dtype))
        bits = np.log2(distance + 1.0)
    return np.where(np.isnan(result), float(WIDTH[dtype]), bits)


def _namespace() -> dict:
    import scipy
    import scipy.special  # noqa: F401 - bound as scipy.special below

    return {"np": np, "numpy": np, "scipy": scipy, "math": math}


def _run(code, namespace, inputs, dtype):
    arrays = {name: np.asarray(values, dtype=dtype) for name, values in inputs.items()}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(eval(code, {**namespace, **arrays}), dtype=np.float64)  # noqa: S307


def measure_example(example, dtype: str) -> dict:
    """One example in one dtype: mean and worst error of both formulas, and what the fix rescues."""
    namespace = _namespace()
    original_code = compile(example.code, "<original>", "eval")
    fixed_code = compile(example.fixed, "<fixed>", "eval")
    fmt = harness.FORMATS[dtype]
    original_bits, fixed_bits, rescued, skipped = [], [], 0, []
    regimes = harness.regime_inputs(example.variables, dtype=dtype, domain=example.domain, shape=SHAPE, seed=SEED)
    for regime, raw in regimes.items():
        inputs = {name: fmt.round(values) for name, values in raw.items()}
        try:
            reference = harness._exact(example.code, "numpy.ndarray", harness.ALIASES, inputs, 0.0, fmt)
        except harness.HarnessError as error:
            skipped.append(f"{regime}: {error}")
            continue
        truth = fmt.round(reference.value)
        original = _run(original_code, namespace, inputs, dtype)
        fixed = _run(fixed_code, namespace, inputs, dtype)
        defined = ~np.isnan(truth)
        original_bits.append(error_bits(original, truth, dtype)[defined])
        fixed_bits.append(error_bits(fixed, truth, dtype)[defined])
        rounded_original = original.astype(dtype).astype(np.float64)
        rounded_fixed = fixed.astype(dtype).astype(np.float64)
        rescued += int((defined & np.isfinite(truth) & ~np.isfinite(rounded_original) & np.isfinite(rounded_fixed)).sum())
    every_original = np.concatenate(original_bits) if original_bits else np.zeros(0)
    every_fixed = np.concatenate(fixed_bits) if fixed_bits else np.zeros(0)
    samples = int(every_original.size)
    row = {
        "original": example.code,
        "fixed": example.fixed,
        "dtype": dtype,
        "samples": samples,
        "original_mean": round(float(every_original.mean()), 1) if samples else None,
        "original_worst": round(float(every_original.max()), 1) if samples else None,
        "fixed_mean": round(float(every_fixed.mean()), 1) if samples else None,
        "fixed_worst": round(float(every_fixed.max()), 1) if samples else None,
        "rescued": round(rescued / samples, 3) if samples else None,
    }
    if skipped:
        row["skipped"] = skipped
    return row


def measured_examples():
    """(rule code, example) for every NumPy example with a fix, in rule order."""
    from stablelint.rules import ALL_RULES

    for rule in ALL_RULES:
        for example in rule.invalid:
            if example.framework == "numpy" and example.fixed is not None and _one_expression(example):
                yield rule.code, example


def _one_expression(example) -> bool:
    """The harness evaluates formulas; an example written as statements is proven elsewhere."""
    try:
        compile(example.code, "<original>", "eval")
        compile(example.fixed, "<fixed>", "eval")
    except SyntaxError:
        return False
    return True


def measure() -> dict:
    rules: dict[str, list] = {}
    for code, example in measured_examples():
        for dtype in DTYPES:
            try:
                row = measure_example(example, dtype)
            except harness.HarnessError as error:  # a name without a reference shim
                row = {"original": example.code, "fixed": example.fixed, "dtype": dtype, "samples": 0,
                       "skipped": [str(error)]}
            rules.setdefault(code, []).append(row)
    return {
        "method": (
            "NumPy/SciPy on the numeric harness's regimes, 8 x 8 elements each, seed 0; error = log2(1 + floats "
            "between the result and the correctly rounded mpmath value), nan = the dtype's width"
        ),
        "numpy": np.__version__,
        "rules": rules,
    }


def main() -> int:
    measured = measure()
    STORED.parent.mkdir(parents=True, exist_ok=True)
    STORED.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote: {STORED}")
    from stablelint import docs

    return docs.main([])


if __name__ == "__main__":
    sys.exit(main())
