"""Every fix a rule ships, executed: the rewritten formula against the original and an
exact (mpmath) reference, over ordinary and extreme inputs in fp16/fp32/fp64.

The fixed expression is the one our codemod produces (``test_rules.py`` checks that the
codemod output equals ``example.fixed``), so this proves the codemod's output.
"""

from __future__ import annotations

import pytest
from numeric_harness import verify_fix

from stablelint.rules import ALL_RULES

# PyTorch's and Keras' softplus return x itself above threshold=20: within float32 and
# float16 rounding of log(1 + exp(x)), but not float64's. That is why STB108 marks those
# fixes unsafe; here they are proven for the dtypes where they are exact.
ROUNDING_ONLY_BELOW_FP64 = {("STB108", "torch"), ("STB108", "keras")}
# A where-guarded softplus returns x itself above its threshold; softplus in TensorFlow, JAX and
# NumPy's logaddexp add exp(-x) there (2e-9 at 20): below float32's resolution, not float64's.
ROUNDING_ONLY_BELOW_FP64 |= {("STB116", "numpy"), ("STB116", "tf"), ("STB116", "jax")}

# PyTorch's CPU sigmoid computes 1 / (1 + exp(-x)) itself: below -88.7 its float32 result is 0,
# not the subnormal exact value (its gradient stays finite, which is what STB111's fix buys).
# SciPy's float32 expit does the same.
FLUSHES_SUBNORMALS = {("STB111", "torch"), ("STB111", "numpy"), ("STB122", "torch"), ("STB122", "numpy")}

# SciPy's expit and xlogy have no float16 loop (float16 in, float64 out): those NumPy fixes are
# unsafe for that reason, and proven here for the dtypes they keep.
FLOAT16_PROMOTED = {("STB111", "numpy"), ("STB114", "numpy"), ("STB122", "numpy")}

# NumPy's var and TensorFlow's reduce_variance square the deviations in float16 and overflow
# past 256 where the written-out formula already gave inf or nan: not repaired there, and no
# regression (tests/test_statistics_numerics.py proves that); proven here for float32 and float64.
SQUARES_IN_FLOAT16 = {("STB201", "numpy"), ("STB201", "tf")}
# A variance of large inputs is inf in float16 before the clamp and after the fix alike (STB206).
SQUARES_IN_FLOAT16 |= {("STB206", "torch"), ("STB206", "tf"), ("STB206", "jax")}
# exp(clamp(x, max=log(c))) is exp of log(c) rounded: c itself in float16/float32, 3 ulps off in
# float64 — why STB118's fix is unsafe.
ROUNDING_ONLY_BELOW_FP64 |= {("STB118", "torch"), ("STB118", "tf"), ("STB118", "jax")}
# Fixes that change the value by design (an eps moved inside sqrt, normalize's eps floor):
# tests/test_statistics_numerics.py proves what they do instead.
CHANGES_THE_VALUE = {"STB202", "STB203"}
# The tanh-squash log-det's stable form is exact in absolute terms, not in relative digits near
# u = 0: tests/test_catalog_numerics.py proves what it does.
CHANGES_THE_VALUE |= {"STB117"}
# exp(lgamma(a) - lgamma(b)) rounds as exp(lgamma(a)) / exp(lgamma(b)) does — to the rounding of
# lgamma's large values, not to 2 ulps of the ratio: tests/test_catalog_numerics.py proves it.
CHANGES_THE_VALUE |= {"STB120"}

# Fixes this elementwise harness cannot execute (several statements, matrices) are proven
# in test_precision_numerics.py and test_linalg_numerics.py.
PROVEN_ELSEWHERE = ("STB5", "STB6")

CASES = [
    pytest.param(rule, example, id=f"{rule.code}-{example.framework}-{example.code}")
    for rule in ALL_RULES
    for example in rule.invalid
    if example.fixed is not None and rule.code not in CHANGES_THE_VALUE and not rule.code.startswith(PROVEN_ELSEWHERE)
]


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_fix_is_proven_by_execution(rule, example):
    dtypes = None
    if (rule.code, example.framework) in ROUNDING_ONLY_BELOW_FP64:
        dtypes = ("float16", "float32")
    if (rule.code, example.framework) in SQUARES_IN_FLOAT16 | FLOAT16_PROMOTED:
        dtypes = ("float32", "float64")
    verify_fix(
        example.code, example.fixed, framework=example.framework, domain=example.domain, dtypes=dtypes,
        variables=example.variables,
        flushes_subnormals=True if (rule.code, example.framework) in FLUSHES_SUBNORMALS else None,
    )



# Traced as TensorFlow and JAX trace (tf.function, jax.jit): a fix that calls NumPy on a
# traced value, or an API the tracer cannot follow, fails here. float32 only: the eager
# runs above cover the dtypes; this proves the fixed program traces and agrees.
TRACED_CASES = [case for case in CASES if case.values[1].framework in ("tf", "jax", "keras")]


@pytest.mark.parametrize(("rule", "example"), TRACED_CASES)
def test_fix_is_proven_traced(rule, example):
    verify_fix(
        example.code, example.fixed, framework=example.framework, domain=example.domain, dtypes=("float32",),
        variables=example.variables, traced=True,
    )
