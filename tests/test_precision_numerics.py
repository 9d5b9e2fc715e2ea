"""The STB5xx fixes, executed in the dtype they are about.

STB501: in float16 the fixed guard keeps every output finite where the input is (the
original's ``log(0 + 1e-8)`` is ``-inf``), and where the guard does not matter (|x| ≥ 1/4,
where float16 absorbs ``tiny``) the fixed value is the original's, bit for bit.
STB502: the fixed mask never raises and is finite; the softmax of every row that is not
fully masked is the original's, and a fully masked row is a finite distribution.
STB503: the fixed comparison is ``isnan`` of the input; the original is constant.
"""

from __future__ import annotations

import numpy as np
import pytest
from example_runner import array, cases, dtype_name, skip_missing, traced

from stablelint.rules.base import IMPORTS_BY_FRAMEWORK
from stablelint.rules.precision import ConstantOverflowsHalf, EpsVanishesInHalf, NanComparison


def _imports(framework: str) -> str:
    # NumPy's nan in TensorFlow/JAX/Keras code is what STB503's examples are about.
    return IMPORTS_BY_FRAMEWORK[framework] + "import numpy as np\n"


def _run(code: str, framework: str, values, trace: bool = False):
    """``y`` of the example with ``x`` bound to ``values``; (array as float64, dtype) or the
    exception it raised. ``trace``: run it under tf.function / jax.jit (None where the
    framework traces nothing)."""
    namespace: dict = {}
    exec(_imports(framework), namespace)  # noqa: S102 - our own examples
    namespace["x"] = array(framework, values, "float32") if isinstance(values, np.ndarray) else values
    try:
        with np.errstate(all="ignore"):
            if trace:
                program = traced(code, framework, _imports(framework))
                if program is None:
                    return None, None
                namespace["y"] = program(namespace["x"])
            else:
                exec(code, namespace)  # noqa: S102
    except RuntimeError as error:
        return error, None
    result = namespace["y"]
    return np.asarray(result, dtype=np.float64), dtype_name(result)


def _inputs(domain: str) -> np.ndarray:
    rng = np.random.default_rng(3)
    if domain == "unit":
        values = rng.uniform(0.0, 1.0, (4, 6))
        values[0] = 0.0
        values[1] = 1.0
        return values
    values = np.concatenate([rng.standard_normal(12), np.logspace(-10, 2, 12)]).reshape(4, 6)
    values[0, :3] = 0.0
    values[3] = -np.abs(values[3])  # a row with no positive element
    return values


@pytest.mark.parametrize("example", cases(EpsVanishesInHalf))
def test_vanishing_eps_fix_guards_in_float16(example):
    skip_missing(example.framework)
    values = _inputs(example.domain)
    original, original_dtype = _run(example.code, example.framework, values)
    fixed, fixed_dtype = _run(example.fixed, example.framework, values)
    assert fixed_dtype == original_dtype == "float16" and fixed.shape == original.shape
    half = values.astype(np.float16).astype(np.float64)
    # log and sqrt of a negative number are nan whatever the eps: the guard is for 0 and up.
    assert np.all(np.isfinite(fixed[half >= 0])), "the fixed guard still lets a non-finite value out"
    unguarded = half >= 0.25  # float16 absorbs tiny (6.1e-5) next to these
    assert np.array_equal(fixed[unguarded], original[unguarded]), "the fix changed values it need not"
    zeros = half == 0
    assert np.all(np.isfinite(fixed[zeros]))
    if "log" in example.code or "/" in example.code:
        assert not np.all(np.isfinite(original[zeros])), "the original eps should vanish at 0"


def _softmax(scores: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        shifted = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(shifted)
        return weights / weights.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("example", cases(ConstantOverflowsHalf))
def test_mask_fix_is_finite_in_float16_and_keeps_the_softmax(example):
    skip_missing(example.framework)
    values = _inputs(example.domain)
    original, original_dtype = _run(example.code, example.framework, values)
    fixed, fixed_dtype = _run(example.fixed, example.framework, values)
    assert fixed_dtype == "float16" and np.all(np.isfinite(fixed)), "the fixed constant overflows float16"
    if isinstance(original, Exception):
        assert "overflow" in str(original)  # PyTorch's masked_fill refuses -1e9 in float16
        return
    assert original_dtype == fixed_dtype and fixed.shape == original.shape
    assert not np.all(np.isfinite(original)), "the original constant should overflow to inf"
    if example.domain == "unit":
        return  # an additive mask: finfo.min is the finite stand-in for -inf, checked above
    fully_masked = np.all(np.isinf(original), axis=-1)
    assert np.allclose(_softmax(fixed)[~fully_masked], _softmax(original)[~fully_masked], rtol=0, atol=1e-3)
    assert np.all(np.isfinite(_softmax(fixed)))
    assert np.all(np.isnan(_softmax(original)[fully_masked]))


@pytest.mark.parametrize("example", cases(NanComparison))
def test_nan_comparison_fix_is_isnan(example):
    skip_missing(example.framework)
    values = np.array([0.0, np.nan, 1.5, -np.inf, np.nan, 3.0])
    if example.framework == "math":
        for value in values:
            original, _ = _run(example.code, "math", float(value))
            fixed, _ = _run(example.fixed, "math", float(value))
            negated = "!=" in example.code
            assert bool(fixed) == (np.isnan(value) != negated)
            assert bool(original) == negated  # always False for ==, True for !=
        return
    negated = "!=" in example.code
    for trace in (False, True):  # eager, and traced: NumPy's isnan on a traced tensor fails
        original, _ = _run(example.code, example.framework, values, trace)
        fixed, _ = _run(example.fixed, example.framework, values, trace)
        if fixed is None:
            continue  # the framework traces nothing
        assert np.array_equal(fixed.astype(bool), np.isnan(values) != negated), trace
        assert np.all(original.astype(bool) == negated)
