"""Digits lost next to 1: the consequence of ``log(1 + x)``, ``exp(x) - 1`` and ``1 - exp(x)``.

Rounding ``1 + x`` (or ``exp(x)``) leaves an absolute error of one unit in the last place of 1,
so the small result (about ``x``) keeps ``log10(|x| / eps)`` of the dtype's digits and loses
``log10(1 / |x|)`` of them. A finding reports a real consequence only: more than half of the
dtype's digits lost at an input the code plausibly computes (DESIGN.md, "Evidence"):

- float64 (NumPy, ``math``, Python floats) keeps 16 digits: losing more than 8 needs ``|x|``
  below 1e-8, which is no everyday value. Only a range the code proves to lie there counts;
  an unknown value is no claim.
- float32/float16/bfloat16 lose half their digits at ``|x|`` below 2.5e-4 / 4.7e-2 / 6.3e-2:
  everyday values. An unknown value is plausible there; a proven range that stays away
  (``x`` large) is silent.
- a uniform draw in [0, 1) falls below 10^-(digits/2) with that probability only (one draw in
  4,000 in float32): not a finding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stablelint.analysis import values as v
from stablelint.analysis.values import Value

DIGITS = {"float16": 3.31, "bfloat16": 2.41, "float32": 7.22, "float64": 15.95}
_EVERYDAY = frozenset({"float16", "bfloat16", "float32"})  # where a small |x| is plausible unproven
_UNIFORM = frozenset({"rand"})


@dataclass(frozen=True)
class DigitsLost:
    """More than half of ``dtype``'s digits are lost at ``witness`` (``lost`` of ``digits``)."""

    dtype: str
    witness: float
    lost: float
    digits: float

    def __str__(self) -> str:
        return f"at x = {self.witness:.1e} ({self.dtype}) {self.lost:.0f} of {self.digits:.0f} digits are lost"


def half_digits_threshold(dtype: str) -> float:
    """The |x| below which ``log(1 + x)`` loses more than half of ``dtype``'s digits."""
    return 10.0 ** (-DIGITS.get(dtype, DIGITS["float32"]) / 2)


def lost_at(x: float, dtype: str) -> float:
    """Digits of ``dtype`` lost by ``log(1 + x)`` or ``exp(x) - 1`` at ``x``."""
    digits = DIGITS.get(dtype, DIGITS["float32"])
    if x == 0:
        return digits
    return max(0.0, min(digits, math.log10(1.0 / abs(x))))


def near_one(small: Value, interval, dtype: str) -> DigitsLost | None:
    """Whether ``1 + small`` (or ``exp(small)`` next to 1) loses more than half of ``dtype``'s
    digits at an input the code plausibly computes, given ``small``'s range (None: unknown)."""
    digits = DIGITS.get(dtype, DIGITS["float32"])
    threshold = half_digits_threshold(dtype)
    if _is_uniform_draw(small):
        return None  # a draw lands below the threshold once in 1 / threshold draws
    if interval is None:
        if dtype not in _EVERYDAY:
            return None  # unknown, and a float64 value that small is no everyday value: no claim
        witness = threshold / 10
        return DigitsLost(dtype, witness, lost_at(witness, dtype), digits)
    if interval.hi != interval.hi or interval.lo != interval.lo:
        return None
    if interval.lo <= 0.0 <= interval.hi:
        smallest, largest = 0.0, max(-interval.lo, interval.hi)
    else:
        smallest = min(abs(interval.lo), abs(interval.hi))
        largest = max(abs(interval.lo), abs(interval.hi))
    if smallest >= threshold:
        return None  # x is large enough everywhere: at most half the digits go
    if dtype not in _EVERYDAY and largest >= threshold:
        return None  # float64: only a range that lies below 1e-8 throughout is a claim
    witness = max(smallest, min(largest, threshold / 10)) or threshold / 10
    return DigitsLost(dtype, witness, lost_at(witness, dtype), digits)


def _is_uniform_draw(value: Value, depth: int = 0) -> bool:
    """A uniform draw in [0, 1), possibly negated or scaled by a constant."""
    if depth > 4:
        return False
    if value.kind in _UNIFORM:
        return True
    if value.kind in (v.NEG, v.INDEX) and value.operands:
        return _is_uniform_draw(value.operand(), depth + 1)
    if value.kind in (v.MUL, v.DIV) and len(value.operands) == 2 and value.operand(1).kind == v.CONST:
        return _is_uniform_draw(value.operand(0), depth + 1)
    return False
