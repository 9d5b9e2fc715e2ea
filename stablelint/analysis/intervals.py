"""Ranges: the interval a value can take, as the code itself establishes it.

``None`` is *unknown* (a parameter, an attribute never set here: no claim). An
``Interval`` is a claim: every element lies in [lo, hi] (±inf allowed), and ``nan``
says whether it may be NaN. ``UNBOUNDED`` — all of R — is a claim too: the output of a
matmul, a Linear/Dense/conv layer or ``randn`` provably spans every real number.

Transfer functions are sound for real arithmetic widened by one ulp outward, and aware of
float rounding where it decides a hazard: ``exp`` overflows to inf past the dtype's
bound, ``exp``, ``sigmoid`` and ``softplus`` underflow to 0, ``sigmoid`` and ``tanh``
round to 1; those take the dtype and hold for what NumPy and PyTorch compute in it. A
transfer function that cannot say anything returns None, never a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INF = math.inf

# Largest x with exp(x) finite, and smallest x with exp(x) > 0 (subnormals included: -k ln 2
# for 2^-k half the smallest subnormal), per dtype.
EXP_OVERFLOW = {"float16": 11.089866488461016, "bfloat16": 88.72283905206835, "float32": 88.72283905206835,
                "float64": 709.782712893384}
EXP_UNDERFLOW = {"float16": -17.328679513998633, "bfloat16": -92.88172219503267, "float32": -103.97207708399179,
                 "float64": -745.1332191019411}
# The x from which sigmoid(x) is exactly 1 however it is computed: (p + 1) ln 2 for p significand
# bits, where 1 - sigmoid(x) < 2^-(p+1) rounds to 1 even correctly rounded. The textbook
# 1 / (1 + exp(-x)) (torch's float32 kernel) already gives 1 from p ln 2 (16.64 in float32).
SIGMOID_ONE = {"float16": 8.317766166719343, "bfloat16": 6.238324625039508, "float32": 17.328679513998633,
               "float64": 37.42994775023705}
EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
SMALLEST_NORMAL = {"float16": 2.0 ** -14, "bfloat16": 2.0 ** -126, "float32": 2.0 ** -126, "float64": 2.0 ** -1022}
TINY = {"float16": 2.0 ** -24, "bfloat16": 2.0 ** -133, "float32": 2.0 ** -149, "float64": 5e-324}
MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
       "float64": 1.7976931348623157e308}
_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}  # significand bits, the implicit one included
DEFAULT_DTYPE = "float32"  # what ML code computes in unless it says otherwise
# Frameworks whose kernels flush subnormal results to 0 (and read subnormal inputs as 0):
# TensorFlow's executor sets the CPU's flush-to-zero and denormals-are-zero modes around every
# op, and XLA's CPU code (JAX) runs with them too. There exp(-100) in float32 is 0, not 3.8e-44
# as in PyTorch and NumPy, and sqrt's gradient at it is inf (measured on CPU: TF 2.21, jax 0.10).
FLUSHES_SUBNORMALS = frozenset({"tf", "jax"})
# Python's ``math`` raises instead of returning inf or NaN: ``math.exp(710)`` is an
# OverflowError, ``math.log(0)`` and ``math.sqrt(-1)`` a ValueError. Past its range a formula
# of Python floats stops with an exception; it never carries an inf on. (Its exp still
# underflows to 0.0 without a word.)
RAISES_INSTEAD_OF_INF = frozenset({"math"})


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float
    nan: bool = False

    def __post_init__(self):
        if self.lo > self.hi:
            raise ValueError(f"empty interval [{self.lo}, {self.hi}]")

    @property
    def unbounded(self) -> bool:
        return self.lo == -INF and self.hi == INF

    def reaches(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def __str__(self) -> str:
        def number(x: float) -> str:
            return "inf" if x == INF else "-inf" if x == -INF else f"{x:.6g}"

        return f"[{number(self.lo)}, {number(self.hi)}]" + (" or nan" if self.nan else "")


UNBOUNDED = Interval(-INF, INF)
NONNEGATIVE = Interval(0.0, INF)
UNIT = Interval(0.0, 1.0)


def point(value: float) -> Interval:
    return Interval(value, value, math.isnan(value))


def _down(x: float) -> float:
    return x if math.isinf(x) or x == 0 else math.nextafter(x, -INF)


def _up(x: float) -> float:
    return x if math.isinf(x) or x == 0 else math.nextafter(x, INF)


def _below(x: float, dtype: str) -> float:
    """x moved down past what a library function computing near x returns in ``dtype``
    (rounding and a few ulps of error: 2 eps relative, and one subnormal)."""
    return x if math.isinf(x) or x == 0 else x - abs(x) * 2 * EPS[dtype] - TINY[dtype]


def _above(x: float, dtype: str) -> float:
    return x if math.isinf(x) or x == 0 else x + abs(x) * 2 * EPS[dtype] + TINY[dtype]


def _infinite(a: Interval) -> bool:
    return math.isinf(a.lo) or math.isinf(a.hi)


def _outward(lo: float, hi: float, nan: bool) -> Interval:
    if math.isnan(lo) or math.isnan(hi):
        return Interval(-INF, INF, True)
    return Interval(_down(lo), _up(hi), nan)


def join(a: Interval | None, b: Interval | None) -> Interval | None:
    if a is None or b is None:
        return None
    return Interval(min(a.lo, b.lo), max(a.hi, b.hi), a.nan or b.nan)


# -- arithmetic


def add(a: Interval, b: Interval) -> Interval:
    lo, hi = a.lo + b.lo, a.hi + b.hi
    nan = a.nan or b.nan or (a.lo == -INF and b.hi == INF) or (a.hi == INF and b.lo == -INF)  # inf + -inf
    return _outward(-INF if math.isnan(lo) else lo, INF if math.isnan(hi) else hi, nan)


def neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo, a.nan)


def sub(a: Interval, b: Interval) -> Interval:
    return add(a, neg(b))


def _products(a: Interval, b: Interval) -> list[float]:
    found = []
    for x in (a.lo, a.hi):
        for y in (b.lo, b.hi):
            product = x * y
            found.append(0.0 if math.isnan(product) else product)  # 0 * inf: the 0 side wins in the limit
    return found


def mul(a: Interval, b: Interval) -> Interval:
    products = _products(a, b)
    nan = a.nan or b.nan or (a.reaches(0) and _infinite(b)) or (b.reaches(0) and _infinite(a))  # 0 * inf
    return _outward(min(products), max(products), nan)


def div(a: Interval, b: Interval) -> Interval:
    if b.lo > 0 or b.hi < 0:
        # 1 / b rounded outward, and the product widens again: x / y is inside both roundings.
        reciprocal = _outward(min(1 / b.lo, 1 / b.hi), max(1 / b.lo, 1 / b.hi), b.nan)
        return mul(a, reciprocal)
    # The divisor reaches 0: x / 0 is ±inf, and 0 / 0 and inf / inf are NaN.
    return Interval(-INF, INF, a.nan or b.nan or a.reaches(0) or (_infinite(a) and _infinite(b)))


def _pow(x: float, n: int) -> float:
    try:
        return x ** n
    except OverflowError:  # Python raises where the float result is ±inf
        return math.copysign(INF, x) if n % 2 else INF


def power(a: Interval, exponent: float) -> Interval | None:
    if math.isfinite(exponent) and exponent == int(exponent) and exponent >= 0:
        n = int(exponent)
        if n == 0:
            return point(1.0)  # x ** 0 is 1, inf and nan included
        if n % 2 == 0:
            low = 0.0 if a.reaches(0) else _pow(min(abs(a.lo), abs(a.hi)), n)
            return _outward(low, _pow(max(abs(a.lo), abs(a.hi)), n), a.nan)
        return _outward(_pow(a.lo, n), _pow(a.hi, n), a.nan)
    if exponent == 0.5:
        root = sqrt(a)
        # pow(-inf, 0.5) is +inf (C99, NumPy, PyTorch) where sqrt(-inf) is nan
        return Interval(root.lo, INF, root.nan) if a.lo == -INF else root
    return None


# -- elementwise functions


def exp(a: Interval, dtype: str = DEFAULT_DTYPE, *, flushes_subnormals: bool = False) -> Interval:
    """exp over ``a`` in ``dtype``; with ``flushes_subnormals`` (``FLUSHES_SUBNORMALS``), a
    result below the smallest normal number is 0: exp(-100) is 0 in TensorFlow's float32."""
    underflow = flush_underflow(dtype) if flushes_subnormals else EXP_UNDERFLOW[dtype]

    def value(x: float) -> float:
        if x > EXP_OVERFLOW[dtype]:
            return INF
        if x < underflow:
            return 0.0
        return math.exp(x)

    return Interval(max(0.0, _below(value(a.lo), dtype)), _above(value(a.hi), dtype), a.nan)


def flush_underflow(dtype: str) -> float:
    """The x below which exp(x) is 0 where subnormals are flushed: ln of the smallest normal
    number (-87.34 in float32, -9.70 in float16)."""
    return math.log(SMALLEST_NORMAL[dtype])


def log(a: Interval) -> Interval:
    """log over the part of the interval where it is defined; NaN if it reaches below 0."""
    lo = -INF if a.lo <= 0 else math.log(a.lo)
    hi = -INF if a.hi <= 0 else (INF if math.isinf(a.hi) else math.log(a.hi))
    return _outward(lo, max(lo, hi), a.nan or a.lo < 0)


def log1p(a: Interval) -> Interval:
    lo = -INF if a.lo <= -1 else math.log1p(a.lo)
    hi = -INF if a.hi <= -1 else (INF if math.isinf(a.hi) else math.log1p(a.hi))
    return _outward(lo, max(lo, hi), a.nan or a.lo < -1)


def expm1(a: Interval, dtype: str = DEFAULT_DTYPE) -> Interval:
    def value(x: float) -> float:
        return INF if x > EXP_OVERFLOW[dtype] else math.expm1(x)

    return Interval(max(-1.0, _below(value(a.lo), dtype)), _above(value(a.hi), dtype), a.nan)


def sqrt(a: Interval) -> Interval:
    lo = 0.0 if a.lo <= 0 else math.sqrt(a.lo)
    hi = 0.0 if a.hi <= 0 else (INF if math.isinf(a.hi) else math.sqrt(a.hi))
    return _outward(lo, hi, a.nan or a.lo < 0)


def sigmoid(a: Interval, dtype: str = DEFAULT_DTYPE) -> Interval:
    def value(x: float) -> float:
        if x >= SIGMOID_ONE[dtype]:
            return 1.0
        if x < EXP_UNDERFLOW[dtype]:
            return 0.0
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        small = math.exp(x)
        return small / (1.0 + small)

    if a.lo >= SIGMOID_ONE[dtype]:
        lo = 1.0
    elif a.lo < -EXP_OVERFLOW[dtype]:
        lo = 0.0  # 1 / (1 + exp(-x)) is 1 / inf there
    else:
        lo = max(0.0, _below(value(a.lo), dtype))
    return Interval(lo, min(1.0, _above(value(a.hi), dtype)), a.nan)


def tanh(a: Interval, dtype: str = DEFAULT_DTYPE) -> Interval:
    """tanh rounds to ±1 in ``dtype`` well before it is ±1 (float32: from 9.0)."""
    return Interval(max(-1.0, _below(math.tanh(a.lo), dtype)), min(1.0, _above(math.tanh(a.hi), dtype)), a.nan)


def absolute(a: Interval) -> Interval:
    if a.lo >= 0:
        return a
    if a.hi <= 0:
        return neg(a)
    return Interval(0.0, max(-a.lo, a.hi), a.nan)


def relu(a: Interval) -> Interval:
    return Interval(max(0.0, a.lo), max(0.0, a.hi), a.nan)


def rsqrt(a: Interval) -> Interval:
    """1 / sqrt(x): inf at 0, NaN below."""
    root = sqrt(a)
    if a.reaches(0.0):
        return Interval(-INF, INF, root.nan)  # 1 / sqrt(-0.0) is 1 / -0.0 = -inf
    if root.hi == 0:
        return Interval(INF, INF, root.nan)
    lo = 0.0 if math.isinf(root.hi) else 1.0 / root.hi
    hi = INF if root.lo == 0 else 1.0 / root.lo
    return _outward(lo, hi, root.nan)


def reciprocal(a: Interval) -> Interval:
    return div(point(1.0), a)


def _monotone(a: Interval, f, lowest: float | None = None, at: float | None = None) -> Interval:
    """f over [lo, hi] for f increasing, or decreasing then increasing with its minimum
    ``lowest`` at ``at``; widened by the library's error (a few eps relative). The
    libraries compute these as products and quotients (x / (1 + |x|), x * sigmoid(x)),
    which are NaN at ±inf."""
    lo, hi = min(f(a.lo), f(a.hi)), max(f(a.lo), f(a.hi))
    if at is not None and a.lo <= at <= a.hi:
        lo = min(lo, lowest)
    slack = 8 * EPS["float32"]
    return Interval(lo - abs(lo) * slack - TINY["float64"], hi + abs(hi) * slack + TINY["float64"],
                    a.nan or _infinite(a))


def _finite_or(x: float, f, at_minus_inf: float, at_inf: float) -> float:
    return at_minus_inf if x == -INF else at_inf if x == INF else f(x)


def relu6(a: Interval) -> Interval:
    return Interval(min(max(0.0, a.lo), 6.0), min(max(0.0, a.hi), 6.0), a.nan)


def elu(a: Interval) -> Interval:
    """x for x >= 0, exp(x) - 1 below (alpha = 1): [-1, inf)."""
    out = _monotone(a, lambda x: _finite_or(x, lambda y: y if y >= 0 else math.expm1(y), -1.0, INF))
    return Interval(out.lo, out.hi, a.nan)  # a select, not a product: finite at ±inf


_GELU_MIN, _GELU_AT = -0.16997120747990983, -0.7517915246935103  # x * Phi(x) is least there
_SILU_MIN, _SILU_AT = -0.27846454276107376, -1.2784645427610738  # x * sigmoid(x)


def gelu(a: Interval) -> Interval:
    """x * Phi(x), exact or with the tanh approximation (JAX's default), which differs from
    it by less than 1e-3 anywhere."""
    def f(x: float) -> float:
        return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))

    out = _monotone(a, lambda x: _finite_or(x, f, 0.0, INF), _GELU_MIN, _GELU_AT)
    # Computed in the tensor's own dtype (torch's bfloat16 and float16), x * (1 + erf) is
    # about 2x before it is halved: it overflows to inf once x passes half the largest float16.
    hi = INF if out.hi > _GELU_DOUBLING_OVERFLOWS else out.hi + 1e-3
    return Interval(out.lo - 1e-3, hi, out.nan)


_GELU_DOUBLING_OVERFLOWS = 65504.0 / 2  # half of float16's largest finite value


def silu(a: Interval) -> Interval:
    def f(x: float) -> float:
        return x / (1 + math.exp(-x)) if x > -700 else 0.0

    return _monotone(a, lambda x: _finite_or(x, f, 0.0, INF), _SILU_MIN, _SILU_AT)


def softsign(a: Interval) -> Interval:
    return _monotone(a, lambda x: _finite_or(x, lambda y: y / (1 + abs(y)), -1.0, 1.0))


def log_sigmoid(a: Interval, dtype: str = DEFAULT_DTYPE) -> Interval:
    """-softplus(-x): at most 0, and 0 exactly where sigmoid rounds to 1."""
    return neg(softplus(neg(a), dtype))


def hardsigmoid(a: Interval) -> Interval:
    """relu6(x + 3) / 6 (PyTorch, JAX; Keras' hard_sigmoid is the same since Keras 3)."""
    def f(x: float) -> float:
        return min(max(x / 6 + 0.5, 0.0), 1.0)

    return Interval(_finite_or(a.lo, f, 0.0, 1.0), _finite_or(a.hi, f, 0.0, 1.0), a.nan)


# The most elements a softmax normalises over: 2^40 float32 numbers are 4 TiB along one axis.
SOFTMAX_MAX_ELEMENTS = 2.0 ** 40


def softmax(a: Interval, dtype: str = DEFAULT_DTYPE) -> Interval:
    """Each probability of a softmax over inputs in ``a``: at least
    1 / (1 + (n - 1) e^(hi - lo)) for n <= 2^40 elements, computed with the maximum
    subtracted (as every framework does), so it is 0 only where that bound underflows."""
    if a.nan or _infinite(a):
        return Interval(0.0, 1.0, a.nan or (a.lo == -INF and a.hi == INF))
    width = a.hi - a.lo
    if width > min(-EXP_UNDERFLOW[dtype], 700.0):
        return Interval(0.0, 1.0)
    lowest = 1.0 / (1.0 + (SOFTMAX_MAX_ELEMENTS - 1) * math.exp(width))
    return Interval(max(0.0, _below(lowest, dtype) / 4), 1.0)


def softplus(a: Interval, dtype: str = DEFAULT_DTYPE) -> Interval:
    """log(1 + exp(x)); it underflows to 0 in ``dtype`` where exp(x) does (float32: below -103.97)."""

    def value(x: float) -> float:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # no overflow, no cancellation

    return Interval(max(0.0, _below(value(a.lo), dtype)), _above(value(a.hi), dtype), a.nan)


def clamp(a: Interval, low: Interval | None, high: Interval | None) -> Interval:
    """clamp(x, min=low, max=high) with known bounds (None: that side is not clamped)."""
    lo, hi = a.lo, a.hi
    if low is not None:
        lo, hi = max(lo, low.lo), max(hi, low.hi)
    if high is not None:
        lo, hi = min(lo, high.lo), min(hi, high.hi)
    return Interval(min(lo, hi), hi, a.nan)  # NaN passes through clamp in every framework


def maximum(a: Interval, b: Interval) -> Interval:
    return Interval(max(a.lo, b.lo), max(a.hi, b.hi), a.nan or b.nan)


def minimum(a: Interval, b: Interval) -> Interval:
    return Interval(min(a.lo, b.lo), min(a.hi, b.hi), a.nan or b.nan)


# -- reductions (over an unknown number n >= 1 of elements)


# Sums are real sums: finite elements whose float sum overflows (and then meets the other
# infinity, inf - inf) are float overflow, which these do not model.


def total(a: Interval) -> Interval:
    lo = a.lo if a.lo >= 0 else -INF
    hi = a.hi if a.hi <= 0 else INF
    return Interval(lo, hi, a.nan or a.unbounded)  # unbounded: inf + -inf


def mean(a: Interval) -> Interval:
    return Interval(a.lo, a.hi, a.nan or a.unbounded)


def spread(a: Interval) -> Interval:
    """var / std: non-negative, and 0 when every element is equal (or n is 1); NaN when an
    element can be infinite (inf - inf in the deviations)."""
    if _infinite(a):
        return Interval(0.0, INF, True)
    # For d = hi - lo: a population var is at most d^2 / 4, a sample var (over n - 1) d^2 / 2,
    # a std d / sqrt(2); max(d, d^2) bounds them all.
    width = _up(a.hi - a.lo)
    return Interval(0.0, _up(max(width, width * width)), a.nan)


def norm(a: Interval) -> Interval:
    # 0 even when the elements cannot be: sqrt(dot(x, x)) underflows for tiny elements.
    return Interval(0.0, INF, a.nan)


# -- rounding in a dtype


def rounded(value: float, dtype: str) -> float:
    """``value`` converted to ``dtype``: round to nearest even, ±inf past the largest finite
    number (past it by half an ulp), 0 below half the smallest subnormal. bfloat16 converts
    through float32, as torch and ml_dtypes do."""
    if dtype == "float64" or value == 0 or not math.isfinite(value):
        return value
    if dtype == "bfloat16":
        value = rounded(value, "float32")
    if abs(value) > 2 * MAX[dtype]:
        return math.copysign(INF, value)
    ulp = max(2.0 ** (math.frexp(value)[1] - _BITS[dtype]), TINY[dtype])
    result = round(value / ulp) * ulp  # value / ulp is exact; round() is round-half-even
    return math.copysign(INF, value) if abs(result) > MAX[dtype] else math.copysign(result, value)


def absorbed(eps: float, beside: float, dtype: str = DEFAULT_DTYPE) -> bool:
    """Is ``beside + eps`` exactly ``beside`` in ``dtype``, both converted to it first (round to
    nearest even)? A zero eps is no eps: False."""
    if eps == 0:
        return False
    beside = rounded(beside, dtype)
    # The float64 sum of two dtype numbers is exact unless eps is far below beside's ulp.
    return rounded(beside + rounded(eps, dtype), dtype) == beside


def representable(value: float, dtype: str) -> bool:
    """Does a nonzero constant survive conversion to ``dtype`` as a nonzero finite number?"""
    if value == 0:
        return True
    result = rounded(value, dtype)
    return result != 0 and math.isfinite(result)
