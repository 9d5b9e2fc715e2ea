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

# Fixes this elementwise harness cannot execute (several statements, matrices) are proven
# in test_precision_numerics.py and test_linalg_numerics.py.
PROVEN_ELSEWHERE = ("STB5", "STB6")

CASES = [
    pytest.param(rule, example, id=f"{rule.code}-{example.framework}-{example.code}")
    for rule in ALL_RULES
    for example in rule.invalid
    if example.fixed is not None and not rule.code.startswith(PROVEN_ELSEWHERE)
]


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_fix_is_proven_by_execution(rule, example):
    dtypes = None
    if (rule.code, example.framework) in ROUNDING_ONLY_BELOW_FP64:
        dtypes = ("float16", "float32")
    verify_fix(
        example.code, example.fixed, framework=example.framework, domain=example.domain, dtypes=dtypes,
        variables=example.variables,
    )

