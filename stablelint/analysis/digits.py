"""Digits lost next to 1: the consequence of ``log(1 + x)``, ``exp(x) - 1`` and ``1 - exp(x)``.

Rounding ``1 + x`` (or ``exp(x)``) leaves an absolute error of one unit in the last place of 1,
so the small result (about ``x``) keeps ``log10(|x| / eps)`` of the dtype's digits and loses
``log10(1 / |x|)`` of them. A finding reports a real consequence only (DESIGN.md, "Evidence"):
more than half of the dtype's digits lost over the range the code PROVES for ``x``:

- the proven range lies where more than half of the digits go: ``|x|`` below 2.5e-4 in float32
  (4.7e-2 in float16, 6.3e-2 in bfloat16, 1e-8 in float64) at both of its ends (a constant, a
  clip to a small interval, a small scale times a bounded value);
- an unknown ``x`` is no claim, in any dtype: most values the code computes are not that small,
  and where they are, the lost digits rarely reach a result (a term of a log-likelihood or of a
  log-determinant next to larger ones). A range that also reaches large ``|x|`` (a probability
  in [0, 1], a uniform draw) is no claim either: most of its inputs lose at most half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stablelint.analysis import values as v
from stablelint.analysis.values import Value

DIGITS = {"float16": 3.31, "bfloat16": 2.41, "float32": 7.22, "float64": 15.95}
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
    digits all over ``small``'s proven range (None: unknown, no claim); the witness is the
    range's largest magnitude, where the fewest digits go."""
    digits = DIGITS.get(dtype, DIGITS["float32"])
    threshold = half_digits_threshold(dtype)
    if interval is None or _is_uniform_draw(small):
        return None  # unknown is no claim; a draw lands below the threshold once in 1 / threshold draws
    if interval.hi != interval.hi or interval.lo != interval.lo:
        return None
    largest = max(abs(interval.lo), abs(interval.hi))
    if largest >= threshold or largest == 0.0:
        return None  # x reaches where at most half the digits go (or is exactly 0: log(1) = 0 is exact)
    return DigitsLost(dtype, largest, lost_at(largest, dtype), digits)


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
