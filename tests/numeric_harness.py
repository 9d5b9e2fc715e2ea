"""Prove a fix by execution: the rewritten formula against the exact value of the original.

A rule's test calls::

    verify_fix("torch.log(1 + x)", "torch.log1p(x)", framework="torch", domain="gt_minus_one")

Both expression strings are evaluated with the real framework on the same inputs, in every
floating dtype the framework has (float16, bfloat16 for torch, float32, float64), over input
*regimes* chosen to break naive formulas: ordinary values, values beyond exp's overflow,
large negative values, tiny values (where ``1 + x`` rounds to 1), zeros, rows mixing one
huge element with ordinary ones, and a sweep across -40…40. Every output element of the
fixed expression is compared with a reference: the ORIGINAL expression evaluated exactly,
in mpmath interval arithmetic, at the very inputs the framework saw (built in the dtype,
then read back). The reference evaluates the same expression string in a namespace whose
``torch``, ``F``, ``np``, ``scipy``, ``special``, ``math``, ``tf``, ``jnp``, ``jax`` and
``keras`` are shims with the real APIs' signatures and default axes (``REFERENCE_API``), so
a fix that changes the axis, the sign or the shape fails.

The verdict, per element (``_allowed`` and ``_judge``):

* the reference is certified: its intervals are recomputed at doubled precision until
  every element is known to 64 bits (``1 - sigmoid(1000)`` needs ~1500 bits);
* the fixed value must lie in the *allowed interval*: the exact range of the original
  formula over its inputs perturbed by ``BACKWARD_ERROR_EPS`` eps each (relative), widened
  by ``ROUNDING_ULPS`` ulps of the output dtype. That is the accuracy of a backward-stable
  implementation: its error may grow with the formula's condition (``log_softmax`` of
  inputs near 1000 in float16 is off by ~eps·1000), never beyond it. Output elements that
  combine several inputs (softmax, logsumexp, log_softmax) get their ulps at magnitude
  ≥ 1: their implementations take the log of a sum ≥ 1, so near 0 they are exact in
  absolute terms only — as the originals are. Elementwise results (log1p, expm1,
  softplus, logsigmoid) must be relatively exact down to the smallest input;
* beyond the output dtype's range the reference rounds to ±inf; an inf of the same sign
  is exact, a finite value passes only within the allowed interval of the true value;
* a failing element is a *regression* where the original was right there, and *not
  repaired* where the original overflowed, underflowed, gave nan or lost its digits;
* the fixed output must also have the original's dtype and shape.

``FixRejected`` (an ``AssertionError``) carries the whole ``FixReport``. ``HarnessError``
is not an ``AssertionError`` — ``pytest.raises(AssertionError)`` never passes on it — and
says the harness cannot judge: a name without a reference shim, a reference that
disagrees with the framework on ordinary inputs, an original that does not run.
"""

from __future__ import annotations

import ast
import collections
import functools
import importlib
import importlib.util
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import mpmath
import numpy as np
import pytest
from mpmath.ctx_iv import MPIntervalContext
from mpmath.libmp import ComplexResult

# A backward-stable formula returns the exact value at inputs perturbed by a few rounding
# errors; we allow 2 eps (4 unit roundoffs) per input, which also covers the intermediate
# roundings of multi-step fixes such as ``x - max - log(sum(exp(x - max)))``. On top of
# that 2 ulps of the output: its final rounding (½ ulp) plus slack for library functions
# that are faithfully rather than correctly rounded. On the correct fixes of
# test_numeric_harness.py the largest error uses under half of this (FixReport.
# tolerance_used); the unstable originals miss it by orders of magnitude (inf, nan,
# 0 for log(1 + 1e-20), …).
BACKWARD_ERROR_EPS = 2
ROUNDING_ULPS = 2

DEFAULT_SHAPE = (3, 5)  # 2-D, so that dim=1 / axis=-1 / keepdims matter


class HarnessError(Exception):
    """The harness cannot judge this fix (deliberately not an AssertionError)."""


# ---------------------------------------------------------------------------------------
# Floating formats: rounding to them and measuring their ulps, from float64.


@dataclass(frozen=True)
class FloatFormat:
    name: str
    precision: int  # significand bits, the implicit leading one included
    min_exponent: int  # exponent of the smallest normal number
    max_exponent: int
    digits: int  # significant decimal digits that print a value unambiguously

    @property
    def eps(self) -> float:
        return math.ldexp(1.0, 1 - self.precision)

    @property
    def max(self) -> float:
        return math.ldexp(2.0 - self.eps, self.max_exponent)

    @property
    def smallest_normal(self) -> float:
        return math.ldexp(1.0, self.min_exponent)

    @property
    def smallest_subnormal(self) -> float:
        return math.ldexp(1.0, self.min_exponent - self.precision + 1)

    @property
    def exp_overflow(self) -> float:
        """exp(x) is inf in this format beyond this (float16 ≈ 11.1, float32 ≈ 88.7)."""
        return math.log(self.max)

    def ulp(self, values) -> np.ndarray:
        """Spacing of the format at |values| (subnormals share the smallest one)."""
        magnitude = np.abs(np.asarray(values, dtype=np.float64))
        magnitude = np.where(np.isfinite(magnitude), np.minimum(magnitude, self.max), self.max)
        _, exponent = np.frexp(magnitude)  # magnitude = m·2**exponent with 0.5 <= m < 1
        binade = np.where(magnitude > 0, exponent - 1, self.min_exponent)
        binade = np.maximum(binade, self.min_exponent)
        return np.ldexp(1.0, binade - (self.precision - 1))

    def round(self, values) -> np.ndarray:
        """Round float64 values to this format (to nearest, ties to even; overflow to ±inf)."""
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(all="ignore"):
            step = self.ulp(values)
            rounded = np.rint(values / step) * step  # rint ties to even, like the hardware
            rounded = np.where(np.abs(rounded) > self.max, np.copysign(np.inf, values), rounded)
        return np.where(np.isfinite(values), rounded, values)


FORMATS = {
    "float16": FloatFormat("float16", 11, -14, 15, 5),
    "bfloat16": FloatFormat("bfloat16", 8, -126, 127, 4),
    "float32": FloatFormat("float32", 24, -126, 127, 9),
    "float64": FloatFormat("float64", 53, -1022, 1023, 17),
}


# ---------------------------------------------------------------------------------------
# Domains and input regimes.


@dataclass(frozen=True)
class Domain:
    """The open interval (lower, upper) the inputs are drawn from (None: unbounded)."""

    name: str
    lower: float | None = None
    upper: float | None = None

    def gap(self, fmt: FloatFormat) -> float:
        # Inputs stay 8 eps inside a bound, so that the backward-error box x·(1 ± 2 eps)
        # around them (BACKWARD_ERROR_EPS) stays inside the domain too.
        return 4 * BACKWARD_ERROR_EPS * fmt.eps

    def fit(self, raw: np.ndarray, fmt: FloatFormat) -> np.ndarray:
        """Map a regime's raw values into the domain, keeping tiny values tiny."""
        lower, upper, gap = self.lower, self.upper, self.gap(fmt)
        if lower is not None and upper is not None:
            span = upper - lower
            squashed = lower + span * (0.5 * (1.0 + np.tanh(0.5 * raw)))  # a sigmoid
            margin = max(span * gap, fmt.smallest_normal)
            return np.clip(squashed, lower + margin, upper - margin)
        if upper is not None:  # the mirror image of a lower bound
            return -Domain(self.name, lower=-upper).fit(-raw, fmt)
        if lower is None:
            return raw
        if lower == 0:
            return np.where(raw == 0, fmt.smallest_normal, np.abs(raw))
        if lower < 0:
            # (-inf, 0) → (lower·(1 - gap), 0): monotone, slope ≈ |lower| near 0
            shrunk = lower * (1.0 - gap) * -np.expm1(np.minimum(raw, 0.0))
            return np.where(raw >= 0, raw, shrunk)
        return lower * (1.0 + gap) + np.abs(raw)

    def contains_zero(self) -> bool:
        return (self.lower is None or self.lower < 0) and (self.upper is None or self.upper > 0)


DOMAINS = {
    domain.name: domain
    for domain in (
        Domain("real"),
        Domain("positive", lower=0.0),
        Domain("gt_minus_one", lower=-1.0),  # log(1 + x)
        Domain("gt_minus_half", lower=-0.5),  # log(1 + 2x)
        Domain("lt_one", upper=1.0),  # log(1 - x)
        Domain("unit_interval", lower=0.0, upper=1.0),  # probabilities
    )
}


def _permuted(values: np.ndarray, shape, rng) -> np.ndarray:
    """Shuffled, so that every row mixes small and large magnitudes."""
    return rng.permutation(values).reshape(shape)


def _ordinary(shape, rng, fmt):
    return 2.0 * rng.standard_normal(shape)


def _large_positive(shape, rng, fmt):
    # 50…1000: beyond exp's overflow in float16 (11.1), bfloat16 and float32 (88.7), and
    # at the top beyond float64's (709.8).
    return _permuted(np.geomspace(50.0, 1000.0, math.prod(shape)), shape, rng)


def _large_negative(shape, rng, fmt):
    return -_large_positive(shape, rng, fmt)


def _tiny(shape, rng, fmt):
    # Below eps, 1 + x rounds to 1 and so does exp(x): log(1 + x) and exp(x) - 1 lose every
    # digit. 1e-30…1e-8 where the format has the range; float16 gets its normals below eps.
    low = max(1e-30, fmt.smallest_normal)
    high = min(1e-8, fmt.eps / 4)
    if high < 100 * low:
        high = fmt.eps / 4
    magnitudes = np.geomspace(low, high, math.prod(shape))
    signs = np.where(np.arange(magnitudes.size) % 2 == 0, 1.0, -1.0)
    return _permuted(signs * magnitudes, shape, rng)


def _zeros(shape, rng, fmt):
    return np.zeros(shape)


def _mixed(shape, rng, fmt):
    # The classic softmax overflow: one huge element among ordinary ones, per row.
    values = _ordinary(shape, rng, fmt)
    rows = values.reshape(-1, shape[-1])
    beyond_overflow = 1.1 * fmt.exp_overflow
    for index, row in enumerate(rows):
        pattern = index % 3
        if pattern == 0:
            row[min(1, row.size - 1)] = 1000.0
        elif pattern == 1:
            row[min(3, row.size - 1)] = -1000.0
        else:
            row[0] = beyond_overflow
            row[-1] = -beyond_overflow
    return values


def _moderate(shape, rng, fmt):
    # A sweep across -40…40: float16's exp overflow (11.1), softplus's threshold (20), and
    # log(1 + exp(x)) - x = exp(-x) still visible in float64 (up to ~37).
    return np.linspace(-40.0, 40.0, math.prod(shape)).reshape(shape)


def _near_bound(bound: float, direction: float):
    def build(shape, rng, fmt):
        gap = 4 * BACKWARD_ERROR_EPS * fmt.eps
        offsets = np.geomspace(gap, 0.5, math.prod(shape)) * max(abs(bound), 1.0)
        return _permuted(bound + direction * offsets, shape, rng)

    return build


def _fitted(builder, domain: Domain):
    return lambda shape, rng, fmt: domain.fit(builder(shape, rng, fmt), fmt)


def _regimes(domain: Domain) -> dict[str, Callable]:
    """Regime name → builder(shape, rng, fmt) of float64 values inside the domain."""
    raw = {"ordinary": _ordinary}
    if domain.upper is None:
        raw["large_positive"] = _large_positive
    if domain.lower is None:
        raw["large_negative"] = _large_negative
    raw["tiny"] = _tiny
    if domain.contains_zero():
        raw["zeros"] = _zeros
    raw["mixed"] = _mixed
    raw["moderate"] = _moderate
    regimes = {name: _fitted(builder, domain) for name, builder in raw.items()}
    if domain.lower is not None:
        regimes["near_lower_bound"] = _near_bound(domain.lower, +1.0)
    if domain.upper is not None:
        regimes["near_upper_bound"] = _near_bound(domain.upper, -1.0)
    return regimes


def _domain(domain: str | Domain) -> Domain:
    if isinstance(domain, Domain):
        return domain
    try:
        return DOMAINS[domain]
    except KeyError:
        raise HarnessError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}") from None


def regime_inputs(
    variables: Sequence[str] = ("x",),
    *,
    dtype: str,
    domain: str | Domain | Mapping[str, str | Domain] = "real",
    shape: tuple = DEFAULT_SHAPE,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """regime → variable → float64 values (not yet rounded to ``dtype``)."""
    fmt = FORMATS[dtype]
    domains = {name: _domain(domain[name] if isinstance(domain, Mapping) else domain) for name in variables}
    regime_names: list[str] | None = None
    for one in domains.values():  # the regimes every variable's domain has, in order
        names = list(_regimes(one))
        regime_names = names if regime_names is None else [n for n in regime_names if n in names]
    result = {}
    for regime_index, regime in enumerate(regime_names or ()):
        result[regime] = {}
        for variable_index, name in enumerate(variables):
            rng = np.random.default_rng([seed, regime_index, variable_index])
            values = _regimes(domains[name])[regime](shape, rng, fmt)
            result[regime][name] = np.asarray(values, dtype=np.float64)
    return result


# ---------------------------------------------------------------------------------------
# The reference's numbers: mpmath intervals, "undefined", and the dependency pass.

_IV = MPIntervalContext()  # private: our precision changes touch nobody else's mpmath
_IVMPF = type(_IV.mpf(0))
START_PRECISION = 256  # bits: enough for 1 + 1e-30; faster overall than 128 plus a step
MAX_PRECISION = 4096  # enough for exp(-|x|) cancelling against 1 up to |x| ≈ 2800
RESOLVED_BITS = 64  # a reference element is known to this many bits (float64 has 53)


class _Undefined:
    """The exact value does not exist here (log of a negative, division by zero)."""

    def __repr__(self):
        return "undefined"


UNDEFINED = _Undefined()


class _Dependencies:
    """A value in the dependency pass: the input elements it depends on, as a bitmask.
    Every kernel goes through ``_guarded``, which merges them."""

    __slots__ = ("mask",)

    def __init__(self, mask: int):
        self.mask = mask

    def __bool__(self):
        return True

    @staticmethod
    def union(values) -> _Dependencies:
        mask = 0
        for value in values:
            if isinstance(value, _Dependencies):
                mask |= value.mask
        return _Dependencies(mask)


_ZERO, _ONE = _IV.mpf(0), _IV.mpf(1)  # exact, so valid at every precision


def _unresolved():
    return _IV.mpf(["-inf", "+inf"])


def _interval(value):
    if isinstance(value, (_IVMPF, _Dependencies)) or value is UNDEFINED:
        return value
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return _IV.mpf(int(value))
    if isinstance(value, (float, np.floating)):
        return _IV.mpf(float(value))  # exact: every float is a dyadic rational
    raise HarnessError(f"the reference cannot use a {type(value).__name__} ({value!r})")


def _endpoints(value) -> tuple[mpmath.mpf, mpmath.mpf]:
    low, high = value._mpi_
    return mpmath.mpf(low), mpmath.mpf(high)


def _has_width_around_zero(value) -> bool:
    if not isinstance(value, _IVMPF):
        return False
    low, high = _endpoints(value)
    return low <= 0 <= high and low != high


def _guarded(kernel):
    """Lift an interval function over "undefined" and the dependency pass.

    An exception (log of a negative, a complex power) means "undefined" when the argument
    lies on one side of zero, but "not known yet" when the argument's rounding interval
    contains zero — more precision may move it to the defined side (1 - sigmoid(1000)).
    """

    def apply(*arguments):
        for argument in arguments:
            if type(argument) is not _IVMPF:
                return special(arguments)
        try:
            result = kernel(*arguments)
        except (ComplexResult, ZeroDivisionError, ValueError):
            result = None
        if type(result) is _IVMPF:
            return result
        return _unresolved() if any(map(_has_width_around_zero, arguments)) else UNDEFINED

    def special(arguments):
        if any(isinstance(argument, _Dependencies) for argument in arguments):
            return _Dependencies.union(arguments)
        if any(argument is UNDEFINED for argument in arguments):
            return UNDEFINED
        return apply(*map(_interval, arguments))  # a plain number

    return apply


def _divide(numerator, denominator):
    low, high = _endpoints(_interval(denominator))
    if low == high == 0:
        raise ZeroDivisionError  # an exact zero: the quotient does not exist
    return numerator / denominator


ADD = _guarded(lambda a, b: a + b)
SUBTRACT = _guarded(lambda a, b: a - b)
MULTIPLY = _guarded(lambda a, b: a * b)
DIVIDE = _guarded(_divide)
POWER = _guarded(lambda a, b: a**b)
NEGATE = _guarded(lambda a: -a)
ABSOLUTE = _guarded(abs)
LOG = _guarded(_IV.log)
EXP = _guarded(_IV.exp)
LOG1P = _guarded(_IV.log1p)
EXPM1 = _guarded(_IV.expm1)
SQRT = _guarded(_IV.sqrt)
SIGMOID = _guarded(lambda v: _ONE / (_ONE + _IV.exp(-v)))
LOG_SIGMOID = _guarded(lambda v: -_IV.log1p(_IV.exp(-v)))
SOFTPLUS = _guarded(lambda v: _IV.log1p(_IV.exp(v)))
LOGIT = _guarded(lambda p: _IV.log(p / (_ONE - p)))
LOGADDEXP = _guarded(lambda a, b: _IV.log(_IV.exp(a) + _IV.exp(b)))


def _monotone(function):
    """An increasing function of one interval, from its mpmath point function: each end
    evaluated with guard bits, then widened outward by a few ulps of the working precision."""

    def kernel(value):
        low, high = _endpoints(value)
        with mpmath.workprec(_IV.prec + 16):
            ends = [function(low), function(high)]
        slack = [abs(end) * mpmath.ldexp(1, 4 - _IV.prec) for end in ends]
        return _IV.mpf([ends[0] - slack[0], ends[1] + slack[1]])

    return kernel


def _atan2(y, x):
    low, high = _endpoints(x)
    if low > 0:
        return ATAN(DIVIDE(y, x))
    raise ValueError("atan2 is modelled for x > 0 only")


def _xlogy(x, y):
    low, high = _endpoints(x)
    if low == high == 0:
        return _ZERO  # xlogy's definition: 0 where x == 0, whatever y
    return x * _IV.log(y)


TANH = _guarded(lambda v: _ONE - 2 / (_IV.exp(2 * v) + _ONE))  # v occurs once: the exact range
ATAN = _guarded(_monotone(mpmath.atan))
ATAN2 = _guarded(_atan2)
XLOGY = _guarded(_xlogy)


def _midpoint(value) -> mpmath.mpf:
    if value is UNDEFINED:
        return mpmath.nan
    if isinstance(value, _Dependencies):  # only argmax indices ask, in that pass
        return mpmath.mpf(0)
    low, high = _endpoints(value)
    return low if low == high or not mpmath.isfinite(low) else (low + high) / 2


def _resolved(value, out_fmt: FloatFormat, combining: bool) -> bool:
    """Known to RESOLVED_BITS bits, or to 1/1024 of the output's ulp (at magnitude ≥ 1 for
    combining elements, as in _allowed): log(1 - 1e-400) need not be told from 0."""
    if value is UNDEFINED:
        return True
    with mpmath.workprec(_IV.prec):  # ends read at 53 bits would straddle a double: never resolved
        low, high = _endpoints(value)
        width = high - low
    if low == high:
        return True
    if not (mpmath.isfinite(low) and mpmath.isfinite(high)):
        return False
    if not (low < 0 < high) and width <= mpmath.ldexp(min(abs(low), abs(high)), -RESOLVED_BITS):
        return True
    magnitude = float(max(abs(low), abs(high)))
    ulp = float(out_fmt.ulp(max(magnitude, 1.0) if combining else magnitude))
    return width <= mpmath.ldexp(ulp, -10)


# Reductions of a list of intervals, and kernels along one axis.


def _sum(items):
    total = _ZERO
    for item in items:
        total = ADD(total, item)
    return total


def _logsumexp(items):
    return LOG(_sum([EXP(item) for item in items]))


def _max(items):
    if any(isinstance(item, _Dependencies) for item in items):
        return _Dependencies.union(items)
    if any(item is UNDEFINED for item in items):
        return UNDEFINED
    ends = [_endpoints(item) for item in items]
    return _IV.mpf([max(low for low, _ in ends), max(high for _, high in ends)])


def _mean(items):
    return DIVIDE(_sum(items), _IV.mpf(len(items)))


def _softmax_vector(items):
    # s_i = 1 / (1 + exp(-x_i)·Σ_{j≠i} exp(x_j)): every x occurs once, so over a box of
    # inputs interval arithmetic gives the exact range (a tight tolerance, see _allowed).
    return [DIVIDE(_ONE, ADD(_ONE, ratio)) for ratio in _others_over_self(items)]


def _log_softmax_vector(items):
    return [NEGATE(LOG1P(ratio)) for ratio in _others_over_self(items)]


def _others_over_self(items):
    """exp(-x_i)·Σ_{j≠i} exp(x_j) for every i, from prefix and suffix sums (no x_i - x_i)."""
    exps = [EXP(item) for item in items]
    prefix, suffix = [_ZERO], [_ZERO]
    for value in exps[:-1]:
        prefix.append(ADD(prefix[-1], value))
    for value in reversed(exps[1:]):
        suffix.append(ADD(suffix[-1], value))
    suffix.reverse()
    return [MULTIPLY(EXP(NEGATE(item)), ADD(before, after)) for item, before, after in zip(items, prefix, suffix)]


# ---------------------------------------------------------------------------------------
# MpArray: an object array of intervals, with the operators and the tensor methods.


class MpArray:
    """A numpy object array of mpmath intervals. ``flavor`` says whose methods it has:
    ``torch.Tensor`` or ``numpy.ndarray`` entries of REFERENCE_API."""

    __array_ufunc__ = None  # numpy must not take an MpArray apart

    def __init__(self, values, flavor: str):
        self.values = _object_array(values)
        self.flavor = flavor

    def _new(self, values) -> MpArray:
        return MpArray(values, self.flavor)

    @property
    def shape(self):
        return self.values.shape

    @property
    def ndim(self):
        return self.values.ndim

    @property
    def T(self):
        return self._new(self.values.T)

    def __len__(self):
        return len(self.values)

    def __getitem__(self, index):
        if isinstance(index, MpArray):
            index = index.values.astype(bool)
        return self._new(self.values[index])

    def __bool__(self):
        raise HarnessError("the reference cannot branch on an array (`if`, `and`, `or`)")

    # -- arithmetic, element by element with broadcasting
    def _binary(self, operation, other, reflected=False):
        other_values = other.values if isinstance(other, MpArray) else _interval(other)
        if reflected:
            return self._new(_ufunc(operation, 2)(other_values, self.values))
        return self._new(_ufunc(operation, 2)(self.values, other_values))

    def __add__(self, other):
        return self._binary(ADD, other)

    def __radd__(self, other):
        return self._binary(ADD, other, reflected=True)

    def __sub__(self, other):
        return self._binary(SUBTRACT, other)

    def __rsub__(self, other):
        return self._binary(SUBTRACT, other, reflected=True)

    def __mul__(self, other):
        return self._binary(MULTIPLY, other)

    def __rmul__(self, other):
        return self._binary(MULTIPLY, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(DIVIDE, other)

    def __rtruediv__(self, other):
        return self._binary(DIVIDE, other, reflected=True)

    def __pow__(self, other):
        return self._binary(POWER, other)

    def __rpow__(self, other):
        return self._binary(POWER, other, reflected=True)

    def __neg__(self):
        return self._new(_ufunc(NEGATE, 1)(self.values))

    def __pos__(self):
        return self

    def __abs__(self):
        return self._new(_ufunc(ABSOLUTE, 1)(self.values))

    # Comparisons decide on midpoints: the reference's intervals are far narrower than any
    # dtype's ulp, so that matters for exact ties only.
    def _compare(self, other, relation):
        def decide(a, b):
            if isinstance(a, _Dependencies) or isinstance(b, _Dependencies):
                return _Dependencies.union((a, b))
            return relation(_midpoint(a), _midpoint(b))

        other_values = other.values if isinstance(other, MpArray) else _interval(other)
        return self._new(np.frompyfunc(decide, 2, 1)(self.values, other_values))

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    __hash__ = None

    # -- tensor methods: x.log(), x.sum(dim=1, keepdim=True), x.softmax(-1) …
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(_api(f"{self.flavor}.{name}"), self)

    def __repr__(self):
        return f"MpArray({self.values!r}, flavor={self.flavor!r})"


def _object_array(values) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values if values.dtype == object else values.astype(object)
    array = np.empty((), dtype=object)
    array[()] = values
    return array


def _object_vector(items) -> np.ndarray:
    vector = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        vector[i] = item
    return vector


@functools.cache
def _ufunc(function, arity):
    return np.frompyfunc(function, arity, 1)


def _values(x) -> np.ndarray:
    return x.values if isinstance(x, MpArray) else _object_array(_interval(x))


def _like(x, values) -> MpArray:
    return MpArray(values, x.flavor if isinstance(x, MpArray) else "float")


def _elementwise(kernel):
    def apply(x, /):
        return _like(x, _ufunc(kernel, 1)(_values(x)))

    return apply


def _axes(axis, ndim) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(sorted({_axes(one, ndim)[0] for one in axis}))
    if not -ndim <= axis < ndim:
        raise HarnessError(f"axis {axis} is out of range for a {ndim}-D array")
    return (axis % ndim,)


def _reduce(x, axis, keepdims, kernel) -> MpArray:
    values = _values(x)
    axes = _axes(axis, values.ndim)
    kept = [d for d in range(values.ndim) if d not in axes]
    moved = values.transpose(kept + list(axes))
    out_shape = moved.shape[: len(kept)]
    rows = moved.reshape(out_shape + (-1,))
    out = np.empty(out_shape, dtype=object)
    for index in np.ndindex(out_shape):
        out[index] = kernel(list(rows[index]))
    if keepdims:
        out = out.reshape(tuple(1 if d in axes else n for d, n in enumerate(values.shape)))
    return _like(x, out)


def _along_axis(x, axis, vector_kernel) -> MpArray:
    """Apply a kernel to every 1-D slice along ``axis`` (None: the flattened array)."""
    values = _values(x)
    if axis is None:
        return _like(x, _object_vector(vector_kernel(list(values.reshape(-1)))).reshape(values.shape))
    (axis,) = _axes(axis, values.ndim)
    moved = np.moveaxis(values, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    for index in np.ndindex(moved.shape[:-1]):
        out[index] = _object_vector(vector_kernel(list(moved[index])))
    return _like(x, np.moveaxis(out, -1, axis))


def _where(condition, if_true, if_false) -> MpArray:
    mask = _values(condition).astype(bool) if isinstance(condition, MpArray) else np.asarray(condition, bool)
    source = next((v for v in (if_true, if_false, condition) if isinstance(v, MpArray)), None)
    return _like(source, np.where(mask, _values(if_true), _values(if_false)))


def _full_like(x, fill) -> MpArray:
    out = np.empty(_values(x).shape, dtype=object)
    out.fill(_IV.mpf(fill))
    return _like(x, out)


def _flatten(x, start_dim=0, end_dim=-1) -> MpArray:
    values = _values(x)
    if values.ndim == 0:
        return _like(x, values.reshape(1))
    start, end = start_dim % values.ndim, end_dim % values.ndim
    return _like(x, values.reshape(values.shape[:start] + (-1,) + values.shape[end + 1 :]))


def _reshape(x, *shape) -> MpArray:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _like(x, _values(x).reshape(shape))


def _unmodelled(**arguments) -> None:
    """Reject arguments the reference does not model (out=, dtype=, b=, where= …)."""
    used = [name for name, value in arguments.items() if value is not None and value is not False]
    if used:
        raise HarnessError(f"the reference does not model the argument(s) {', '.join(used)}=")


# The signatures of the real APIs, each bound to a kernel. Keyword names and default axes
# are the API's: torch's dim=None and everyone's axis=None reduce every axis; torch's
# logsumexp and softmax need dim; F.softmax without dim takes the legacy implicit one;
# scipy's softmax(axis=None) is over the whole array; jax, keras and tf softmax use -1.


def _torch_reduction(kernel):
    def reduction(input, dim=None, keepdim=False, *, dtype=None):
        _unmodelled(dtype=dtype)
        return _reduce(input, dim, keepdim, kernel)

    return reduction


def _numpy_reduction(kernel):
    def reduction(a, axis=None, dtype=None, out=None, keepdims=False):
        _unmodelled(dtype=dtype, out=out)
        return _reduce(a, axis, keepdims, kernel)

    return reduction


def _numpy_max(a, axis=None, out=None, keepdims=False):
    _unmodelled(out=out)
    return _reduce(a, axis, keepdims, _max)


def _tf_reduction(kernel):
    def reduction(input_tensor, axis=None, keepdims=False, name=None):
        return _reduce(input_tensor, axis, keepdims, kernel)

    return reduction


def _keras_reduction(kernel):
    def reduction(x, axis=None, keepdims=False):
        return _reduce(x, axis, keepdims, kernel)

    return reduction


def _torch_logsumexp(input, dim, keepdim=False):
    return _reduce(input, dim, keepdim, _logsumexp)


def _scipy_logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    _unmodelled(b=b, return_sign=return_sign)
    return _reduce(a, axis, keepdims, _logsumexp)


MaxResult = collections.namedtuple("MaxResult", "values indices")  # torch.return_types.max


def _torch_max(input, dim=None, keepdim=False):
    values = _reduce(input, dim, keepdim, _max)
    if dim is None:
        return values
    midpoints = np.vectorize(lambda v: float(_midpoint(v)), otypes=[float])(_values(input))
    indices = np.argmax(midpoints, axis=dim)
    return MaxResult(values, np.expand_dims(indices, dim) if keepdim else indices)


def _torch_amax(input, dim=(), keepdim=False):
    return _reduce(input, dim or None, keepdim, _max)


def _torch_along(vector_kernel):
    def along(input, dim, dtype=None):
        _unmodelled(dtype=dtype)
        return _along_axis(input, dim, vector_kernel)

    return along


def _torch_functional_along(vector_kernel):
    def along(input, dim=None, _stacklevel=3, dtype=None):
        _unmodelled(dtype=dtype)
        if dim is None:  # torch.nn.functional._get_softmax_dim
            dim = 0 if _values(input).ndim in (0, 1, 3) else 1
        return _along_axis(input, dim, vector_kernel)

    return along


def _scipy_along(vector_kernel):
    def along(x, axis=None):
        return _along_axis(x, axis, vector_kernel)

    return along


def _jax_along(vector_kernel):
    def along(x, axis=-1, where=None):
        _unmodelled(where=where)
        return _along_axis(x, axis, vector_kernel)

    return along


def _tf_along(vector_kernel):
    def along(logits, axis=None, name=None):
        return _along_axis(logits, -1 if axis is None else axis, vector_kernel)

    return along


def _keras_along(vector_kernel):
    def along(x, axis=-1):
        return _along_axis(x, axis, vector_kernel)

    return along


def _math_log(x, base=None, /):
    result = _elementwise(LOG)(x)
    return result if base is None else result / _elementwise(LOG)(base)


def _torch_softplus(input, beta=1, threshold=20):
    # The mathematical log(1 + exp(x)): PyTorch's threshold shortcut (x itself above 20)
    # is what the harness measures, not what it copies.
    return _elementwise(SOFTPLUS)(input * beta) / beta


def _logaddexp(x1, x2, /):
    return _like(x1 if isinstance(x1, MpArray) else x2, _ufunc(LOGADDEXP, 2)(_values(x1), _values(x2)))


# ---------------------------------------------------------------------------------------
# REFERENCE_API: dotted path (canonical module names) → implementation with the real
# function's signature. ``torch.Tensor.*`` / ``numpy.ndarray.*`` are methods (the array
# comes first). Unknown paths raise a HarnessError that names them.

REFERENCE_API: dict[str, Callable] = {}


def _register(paths: str, implementation: Callable) -> None:
    for path in paths.split():
        REFERENCE_API[path] = implementation


for _kernel, _paths in {
    LOG: "torch.log torch.Tensor.log numpy.log jax.numpy.log tensorflow.math.log keras.ops.log",
    EXP: "torch.exp torch.Tensor.exp numpy.exp jax.numpy.exp tensorflow.exp tensorflow.math.exp keras.ops.exp "
    "math.exp",
    LOG1P: "torch.log1p torch.Tensor.log1p torch.special.log1p numpy.log1p jax.numpy.log1p tensorflow.math.log1p "
    "keras.ops.log1p math.log1p scipy.special.log1p",
    EXPM1: "torch.expm1 torch.Tensor.expm1 torch.special.expm1 numpy.expm1 jax.numpy.expm1 tensorflow.math.expm1 "
    "keras.ops.expm1 math.expm1 scipy.special.expm1",
    SIGMOID: "torch.sigmoid torch.Tensor.sigmoid torch.special.expit torch.nn.functional.sigmoid scipy.special.expit "
    "jax.nn.sigmoid jax.scipy.special.expit tensorflow.sigmoid tensorflow.math.sigmoid tensorflow.nn.sigmoid "
    "keras.ops.sigmoid keras.activations.sigmoid",
    LOG_SIGMOID: "torch.nn.functional.logsigmoid scipy.special.log_expit jax.nn.log_sigmoid "
    "tensorflow.math.log_sigmoid keras.ops.log_sigmoid",
    SOFTPLUS: "jax.nn.softplus tensorflow.math.softplus tensorflow.nn.softplus keras.ops.softplus "
    "keras.activations.softplus",
    ABSOLUTE: "torch.abs torch.Tensor.abs numpy.abs numpy.absolute jax.numpy.abs tensorflow.abs tensorflow.math.abs "
    "keras.ops.abs math.fabs",
    SQRT: "torch.sqrt torch.Tensor.sqrt numpy.sqrt jax.numpy.sqrt tensorflow.sqrt tensorflow.math.sqrt keras.ops.sqrt "
    "math.sqrt",
    LOGIT: "torch.logit torch.special.logit scipy.special.logit jax.scipy.special.logit",
}.items():
    _register(_paths, _elementwise(_kernel))

_register("math.log", _math_log)
for _kernel, _paths in {
    TANH: "torch.tanh torch.Tensor.tanh numpy.tanh jax.numpy.tanh tensorflow.tanh tensorflow.math.tanh keras.ops.tanh "
    "math.tanh",
    ATAN: "torch.atan torch.arctan torch.Tensor.atan numpy.arctan jax.numpy.arctan tensorflow.math.atan "
    "keras.ops.arctan math.atan",
}.items():
    _register(_paths, _elementwise(_kernel))


def _binary(kernel):
    def apply(x1, x2, /):
        return _like(x1 if isinstance(x1, MpArray) else x2, _ufunc(kernel, 2)(_values(x1), _values(x2)))

    return apply


_register("torch.atan2 torch.arctan2 numpy.arctan2 jax.numpy.arctan2 tensorflow.math.atan2 keras.ops.arctan2 "
          "math.atan2", _binary(ATAN2))
_register("torch.xlogy torch.special.xlogy scipy.special.xlogy jax.scipy.special.xlogy tensorflow.math.xlogy",
          _binary(XLOGY))


def _bounded(x, low, high) -> MpArray:
    """clamp/clip/maximum/minimum by constant bounds (midpoints decide, as comparisons do)."""
    def one(value):
        if isinstance(value, _Dependencies) or value is UNDEFINED:
            return value  # the dependency pass: a clamped element depends on what it clamps
        if low is not None and _midpoint(value) < low:
            return _IV.mpf(low)
        if high is not None and _midpoint(value) > high:
            return _IV.mpf(high)
        return value

    return _like(x, _ufunc(one, 1)(_values(x)))


_register("torch.clamp torch.clip torch.Tensor.clamp torch.Tensor.clip",
          lambda input, min=None, max=None: _bounded(input, min, max))
_register("numpy.clip jax.numpy.clip", lambda a, a_min=None, a_max=None: _bounded(a, a_min, a_max))
_register("numpy.maximum jax.numpy.maximum torch.maximum", lambda x1, x2, /: _bounded(x1, x2, None))
_register("numpy.minimum jax.numpy.minimum torch.minimum", lambda x1, x2, /: _bounded(x1, None, x2))
def _loggamma(value):
    """log Γ on positive intervals: decreasing up to its minimum at 1.4616…, increasing after."""
    low, high = _endpoints(value)
    if low <= 0:
        raise ValueError("lgamma is modelled for positive arguments only")
    with mpmath.workprec(_IV.prec + 16):
        ends = [mpmath.loggamma(low), mpmath.loggamma(high)]
        turning = mpmath.findroot(mpmath.digamma, 1.4616321449683622)
        lowest = mpmath.loggamma(turning) if low < turning < high else min(ends)
    slack = max(abs(end) for end in ends) * mpmath.ldexp(1, 4 - _IV.prec) + mpmath.ldexp(1, -_IV.prec)
    return _IV.mpf([min(lowest, *ends) - slack, max(ends) + slack])


_register("torch.lgamma torch.Tensor.lgamma torch.special.gammaln scipy.special.gammaln jax.scipy.special.gammaln "
          "jax.lax.lgamma tensorflow.math.lgamma tensorflow.lgamma math.lgamma", _elementwise(_guarded(_loggamma)))
_register("torch.Tensor.clamp_max torch.clamp_max", lambda input, max: _bounded(input, None, max))
_register("torch.Tensor.clamp_min torch.clamp_min", lambda input, min: _bounded(input, min, None))
_register("tensorflow.maximum tensorflow.math.maximum keras.ops.maximum", lambda x, y, name=None: _bounded(x, y, None))
_register("tensorflow.minimum tensorflow.math.minimum keras.ops.minimum", lambda x, y, name=None: _bounded(x, None, y))


def _variance(ddof):
    def kernel(items):
        mean = _mean(items)
        return DIVIDE(_sum([MULTIPLY(SUBTRACT(item, mean), SUBTRACT(item, mean)) for item in items]),
                      _IV.mpf(len(items) - ddof))

    return kernel


def _torch_var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    ddof = 1 if correction is None and unbiased in (None, True) else (correction if correction is not None else 0)
    return _reduce(input, dim, keepdim, _variance(ddof))


def _numpy_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    _unmodelled(dtype=dtype, out=out)
    return _reduce(a, axis, keepdims, _variance(ddof))


_register("torch.var torch.Tensor.var", _torch_var)
_register("numpy.var numpy.ndarray.var jax.numpy.var", _numpy_var)
_register("tensorflow.math.reduce_variance tensorflow.reduce_variance",
          lambda input_tensor, axis=None, keepdims=False, name=None: _reduce(input_tensor, axis, keepdims, _variance(0)))
_register("keras.ops.var", lambda x, axis=None, keepdims=False: _reduce(x, axis, keepdims, _variance(0)))
_register("torch.nn.functional.softplus", _torch_softplus)
_register("numpy.logaddexp jax.numpy.logaddexp torch.logaddexp keras.ops.logaddexp", _logaddexp)
_register("torch.where numpy.where jax.numpy.where tensorflow.where keras.ops.where", _where)
_register("torch.ones_like numpy.ones_like jax.numpy.ones_like tensorflow.ones_like keras.ops.ones_like",
          lambda input, *args, **kwargs: _full_like(input, 1))
_register("torch.zeros_like numpy.zeros_like jax.numpy.zeros_like tensorflow.zeros_like keras.ops.zeros_like",
          lambda input, *args, **kwargs: _full_like(input, 0))
_register("torch.flatten torch.Tensor.flatten", _flatten)
_register("numpy.ndarray.flatten numpy.ndarray.ravel numpy.ravel", lambda a, order="C": _flatten(a))
_register("torch.Tensor.reshape torch.Tensor.view numpy.ndarray.reshape", _reshape)
_register("torch.reshape numpy.reshape jax.numpy.reshape tensorflow.reshape keras.ops.reshape",
          lambda a, shape: _reshape(a, shape))

for _name, _kernel in {"sum": _sum, "mean": _mean}.items():
    _register(f"torch.{_name} torch.Tensor.{_name}", _torch_reduction(_kernel))
    _register(f"numpy.{_name} numpy.ndarray.{_name} jax.numpy.{_name}", _numpy_reduction(_kernel))
for _name, _kernel in {"sum": _sum, "mean": _mean, "max": _max, "logsumexp": _logsumexp}.items():
    _register(f"tensorflow.reduce_{_name} tensorflow.math.reduce_{_name}", _tf_reduction(_kernel))
    _register(f"keras.ops.{_name}", _keras_reduction(_kernel))
_register("torch.max torch.Tensor.max", _torch_max)
_register(
    "torch.square torch.Tensor.square numpy.square jax.numpy.square tensorflow.square tensorflow.math.square "
    "keras.ops.square",
    lambda x, *args, **kwargs: x ** 2,
)


def _torch_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """``Tensor.norm``/``torch.norm``/``torch.linalg.vector_norm`` (the 2-norm only)."""
    if p not in (2, 2.0, "fro"):
        raise HarnessError(f"the norm shim models the 2-norm only, not p={p!r}")
    _unmodelled(dtype=dtype)
    return _api("torch.sqrt")(_reduce(input ** 2, dim, keepdim, _sum))


_register("torch.norm torch.Tensor.norm torch.linalg.vector_norm", _torch_norm)
_register("torch.amax torch.Tensor.amax", _torch_amax)
_register("numpy.max numpy.amax numpy.ndarray.max jax.numpy.max jax.numpy.amax", _numpy_max)
_register("torch.logsumexp torch.Tensor.logsumexp torch.special.logsumexp", _torch_logsumexp)
_register("scipy.special.logsumexp jax.nn.logsumexp jax.scipy.special.logsumexp", _scipy_logsumexp)

for _name, _vector_kernel in {"softmax": _softmax_vector, "log_softmax": _log_softmax_vector}.items():
    _register(f"torch.{_name} torch.Tensor.{_name} torch.special.{_name}", _torch_along(_vector_kernel))
    _register(f"torch.nn.functional.{_name}", _torch_functional_along(_vector_kernel))
    _register(f"scipy.special.{_name}", _scipy_along(_vector_kernel))
    _register(f"jax.nn.{_name}", _jax_along(_vector_kernel))
    _register(f"tensorflow.nn.{_name} tensorflow.math.{_name}", _tf_along(_vector_kernel))
    _register(f"keras.ops.{_name} keras.activations.{_name}", _keras_along(_vector_kernel))


def _cumulative(kernel):
    """A running reduction: element k is ``kernel`` of the first k + 1 items."""
    return lambda items: [kernel(items[: index + 1]) for index in range(len(items))]


def _torch_cumulative(kernel):
    def cumulative(input, dim, *, dtype=None):
        _unmodelled(dtype=dtype)
        return _along_axis(input, dim, _cumulative(kernel))

    return cumulative


def _tf_cumulative(kernel):
    def cumulative(x, axis=0, exclusive=False, reverse=False, name=None):
        _unmodelled(exclusive=exclusive or None, reverse=reverse or None)
        return _along_axis(x, axis, _cumulative(kernel))

    return cumulative


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


_register("torch.add torch.Tensor.add", lambda input, other, *, alpha=1: input + _scaled(other, alpha))
_register("torch.sub torch.subtract torch.Tensor.sub", lambda input, other, *, alpha=1: input - _scaled(other, alpha))
_register("numpy.add jax.numpy.add tensorflow.add tensorflow.math.add keras.ops.add", lambda x1, x2, **_: x1 + x2)
_register(
    "numpy.subtract jax.numpy.subtract tensorflow.subtract tensorflow.math.subtract keras.ops.subtract",
    lambda x1, x2, **_: x1 - x2,
)
_register("torch.cumsum torch.Tensor.cumsum", _torch_cumulative(_sum))
_register("torch.logcumsumexp torch.Tensor.logcumsumexp", _torch_cumulative(_logsumexp))
_register("tensorflow.math.cumsum tensorflow.cumsum", _tf_cumulative(_sum))
_register("tensorflow.math.cumulative_logsumexp", _tf_cumulative(_logsumexp))


# Binary cross-entropy, exactly: the probability form without PyTorch's clamp of each log at
# -100 (the value the clamp stands in for), and the with-logits form through logsigmoid.
def _reduced(terms, reduction):
    if reduction == "none":
        return terms
    return REFERENCE_API[{"mean": "torch.mean", "sum": "torch.sum"}[reduction]](terms)


def _torch_bce(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    _unmodelled(weight=weight, size_average=size_average, reduce=reduce)
    log = REFERENCE_API["torch.log"]
    return _reduced(-(target * log(input) + (1 - target) * log(1 - input)), reduction)


def _torch_bce_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    _unmodelled(weight=weight, size_average=size_average, reduce=reduce, pos_weight=pos_weight)
    log_sigmoid = REFERENCE_API["torch.nn.functional.logsigmoid"]
    return _reduced(-(target * log_sigmoid(input) + (1 - target) * log_sigmoid(-input)), reduction)


_register("torch.nn.functional.binary_cross_entropy", _torch_bce)
_register("torch.nn.functional.binary_cross_entropy_with_logits", _torch_bce_with_logits)
_register("torch.nn.BCELoss", lambda **options: lambda input, target: _torch_bce(input, target, **options))
_register(
    "torch.nn.BCEWithLogitsLoss",
    lambda **options: lambda input, target: _torch_bce_with_logits(input, target, **options),
)


# Keras' probability losses, exactly (without their clip to [1e-7, 1 - 1e-7]), and the same
# losses with from_logits=True; the loss objects average over the batch (Keras' default).
def _keras_bce(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    _unmodelled(label_smoothing=label_smoothing or None)
    if from_logits:
        log_p, log_not_p = REFERENCE_API["keras.ops.log_sigmoid"](y_pred), REFERENCE_API["keras.ops.log_sigmoid"](-y_pred)
    else:
        log_p, log_not_p = REFERENCE_API["keras.ops.log"](y_pred), REFERENCE_API["keras.ops.log"](1 - y_pred)
    return REFERENCE_API["keras.ops.mean"](-(y_true * log_p + (1 - y_true) * log_not_p), axis=axis)


def _keras_cce(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    _unmodelled(label_smoothing=label_smoothing or None)
    if from_logits:
        log_p = REFERENCE_API["keras.ops.log_softmax"](y_pred, axis=axis)
    else:
        log_p = REFERENCE_API["keras.ops.log"](y_pred / REFERENCE_API["keras.ops.sum"](y_pred, axis=axis, keepdims=True))
    return -REFERENCE_API["keras.ops.sum"](y_true * log_p, axis=axis)


def _keras_loss_object(loss):
    def construct(from_logits=False, label_smoothing=0.0, axis=-1, **_):
        def call(y_true, y_pred):
            per_sample = loss(y_true, y_pred, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
            return REFERENCE_API["keras.ops.mean"](per_sample)
        return call
    return construct


_register("keras.losses.binary_crossentropy", _keras_bce)
_register("keras.losses.categorical_crossentropy", _keras_cce)
_register("keras.losses.BinaryCrossentropy", _keras_loss_object(_keras_bce))
_register("keras.losses.CategoricalCrossentropy", _keras_loss_object(_keras_cce))

def _api(path: str) -> Callable:
    try:
        return REFERENCE_API[path]
    except KeyError:
        raise HarnessError(
            f"no exact reference for `{path}`; add it to REFERENCE_API in tests/numeric_harness.py"
        ) from None


class ShimModule:
    """``torch``, ``np``, ``tf.math`` … in the reference namespace: attribute access walks
    REFERENCE_API's dotted paths, so ``F.softmax`` is ``torch.nn.functional.softmax``."""

    def __init__(self, path: str):
        self._path = path

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        path = f"{self._path}.{name}"
        if path in REFERENCE_API:
            return REFERENCE_API[path]
        if any(key.startswith(path + ".") for key in REFERENCE_API):
            return ShimModule(path)
        return _api(path)  # raises the HarnessError that names the path

    def __repr__(self):
        return f"<reference shim of {self._path}>"


# The conventional aliases, as dotted paths; callers add theirs with ``names=``.
ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "scipy": "scipy",
    "special": "scipy.special",
    "math": "math",
    "torch": "torch",
    "F": "torch.nn.functional",
    "tf": "tensorflow",
    "jnp": "jax.numpy",
    "jax": "jax",
    "keras": "keras",
    # names imported directly from scipy.special
    "logsumexp": "scipy.special.logsumexp",
    "log_softmax": "scipy.special.log_softmax",
    "softmax": "scipy.special.softmax",
    "expit": "scipy.special.expit",
    "log_expit": "scipy.special.log_expit",
}


def _shim(path: str):
    return REFERENCE_API.get(path) or ShimModule(path)


# ---------------------------------------------------------------------------------------
# Evaluating the reference, precision step by precision step.


@dataclass(frozen=True)
class Reference:
    point: np.ndarray  # object array: a certified interval around each exact value
    box: np.ndarray  # object array: each value's range over the backward-error box
    precision: int  # the bits it took

    @functools.cached_property
    def value(self) -> np.ndarray:
        """float64 (nan where undefined, ±inf beyond float64)."""
        return np.array([float(_midpoint(v)) for v in self.point.flat]).reshape(self.point.shape)

    @functools.cached_property
    def range(self) -> tuple[np.ndarray, np.ndarray]:
        """float64 ends of ``box``; nan where it gives no usable bound."""
        lows, highs = np.full(self.point.shape, np.nan), np.full(self.point.shape, np.nan)
        for index, box in np.ndenumerate(self.box):
            if box is UNDEFINED or self.point[index] is UNDEFINED:
                continue
            low, high = (float(end) for end in _endpoints(box))
            if math.isfinite(low) and math.isfinite(high):
                lows[index], highs[index] = low, high
        return lows, highs


def _evaluate_reference(code, namespace, intervals, flavor, keep=None) -> np.ndarray:
    """The expression on interval inputs. Input elements outside ``keep`` (name → bool
    array) are replaced by 0: the outputs being computed do not depend on them, and 0
    keeps their share of a high-precision evaluation cheap."""
    scope = dict(namespace)
    for name, values in intervals.items():
        scope[name] = MpArray(values if keep is None else np.where(keep[name], values, _ZERO), flavor)
    return _values(eval(code, scope))  # noqa: S307 - the tests' own expressions


def _input_intervals(inputs, widen) -> dict[str, np.ndarray]:
    """Point intervals of the inputs, or the box x·(1 ± widen); exact at START_PRECISION
    (53-bit floats times 1 ± 2**-k), hence at every precision above."""
    box = _IV.mpf([1 - widen, 1 + widen])
    intervals = {}
    for name, values in inputs.items():
        points = _ufunc(_interval, 1)(values.astype(object))
        intervals[name] = _ufunc(MULTIPLY, 2)(points, box) if widen else points
    return intervals


@functools.lru_cache(maxsize=1024)
def _reference_cached(expression, flavor, aliases, inputs_key, widen, out_format) -> Reference:
    code = compile(expression, "<original>", "eval")
    namespace = {alias: _shim(path) for alias, path in aliases}
    inputs = {name: np.frombuffer(data, dtype=np.float64).reshape(shape) for name, shape, data in inputs_key}
    masks = _dependencies_cached(expression, flavor, aliases, tuple((n, s) for n, s, _ in inputs_key))
    out_fmt = FORMATS[out_format]
    resolved = np.frompyfunc(lambda value, combining: _resolved(value, out_fmt, combining), 2, 1)
    point = box = done = None
    precision = START_PRECISION
    saved = _IV.prec
    try:
        _IV.prec = precision
        points, boxes = _input_intervals(inputs, 0), _input_intervals(inputs, widen)
        # Each element is computed at the precision it needs: the elements still unknown
        # are recomputed at doubled precision, with the inputs they do not depend on zeroed.
        while True:
            _IV.prec = precision
            keep = None if done is None else _needed_inputs(masks, ~done, inputs)
            level_point = _evaluate_reference(code, namespace, points, flavor, keep)
            if done is None:
                point, box = level_point.copy(), level_point.copy()
                done = np.zeros(level_point.shape, bool)
            combining = _combining_of(masks, level_point.shape)
            known = ~done & np.asarray(resolved(level_point, combining), dtype=bool)
            if known.any():
                level_box = _evaluate_reference(code, namespace, boxes, flavor, _needed_inputs(masks, known, inputs))
                # a box still unbounded where the value is finite wants more precision too
                bounded = np.vectorize(_bounded_or_pointless, otypes=[bool])(level_point, level_box)
                known &= bounded | (precision >= MAX_PRECISION)
                point[known], box[known] = level_point[known], level_box[known]
                done |= known
            if done.all():
                return Reference(point, box, precision)
            if precision >= MAX_PRECISION:
                unresolved = [tuple(map(int, index)) for index in np.argwhere(~done)]
                raise HarnessError(
                    f"the exact value of `{expression}` is still unknown at {precision} bits at "
                    f"{unresolved[:4]}: inputs too extreme for the reference"
                )
            precision *= 2
    finally:
        _IV.prec = saved


def _bounded_or_pointless(point, box) -> bool:
    if point is UNDEFINED or box is UNDEFINED:
        return True
    low, high = _endpoints(box)
    return bool(mpmath.isfinite(low) and mpmath.isfinite(high)) or not mpmath.isfinite(_midpoint(point))


def _needed_inputs(masks, outputs, inputs) -> dict[str, np.ndarray] | None:
    """name → which input elements the chosen output elements depend on (None: all)."""
    if masks is None:
        return None
    union = 0
    for mask in masks[outputs]:
        union |= mask
    keep, bit = {}, 0
    for name, values in inputs.items():
        flags = [(union >> (bit + i)) & 1 for i in range(values.size)]
        keep[name] = np.array(flags, dtype=bool).reshape(values.shape)
        bit += values.size
    return keep


def _exact(expression, flavor, aliases, inputs, widen, out_fmt: FloatFormat) -> Reference:
    key = _alias_key(expression, aliases), _inputs_key(inputs)
    return _reference_cached(expression, flavor, *key, widen, out_fmt.name)


def _alias_key(expression, aliases) -> tuple:
    used = _names_in(expression)
    return tuple(sorted((name, path) for name, path in aliases.items() if name in used))


def _inputs_key(inputs) -> tuple:
    return tuple((name, values.shape, np.asarray(values, np.float64).tobytes()) for name, values in inputs.items())


@functools.lru_cache(maxsize=256)
def _dependencies_cached(expression, flavor, aliases, shapes) -> np.ndarray | None:
    """Per output element, the bitmask of input elements it depends on (the inputs'
    elements numbered in order, variable after variable); None if the pass fails."""
    scope, bit = {alias: _shim(path) for alias, path in aliases}, 0
    for name, shape in shapes:
        masks = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            masks[index] = _Dependencies(1 << bit)
            bit += 1
        scope[name] = MpArray(masks, flavor)
    try:
        values = _values(eval(expression, scope))  # noqa: S307
    except Exception:  # noqa: BLE001 - a construct the pass cannot follow
        return None
    masks = np.empty(values.shape, dtype=object)
    for index, value in np.ndenumerate(values):
        masks[index] = value.mask if isinstance(value, _Dependencies) else 0
    return masks


def _combining(expression, flavor, aliases, inputs) -> np.ndarray | None:
    """Which output elements depend on more than one input element (softmax, logsumexp …);
    None when the dependency pass cannot tell (then every element counts as combining)."""
    shapes = tuple((n, v.shape) for n, v in inputs.items())
    masks = _dependencies_cached(expression, flavor, _alias_key(expression, aliases), shapes)
    return None if masks is None else _combining_of(masks, masks.shape)


def _combining_of(masks, shape) -> np.ndarray:
    if masks is None:
        return np.ones(shape, bool)
    return np.vectorize(lambda mask: mask.bit_count() >= 2, otypes=[bool])(masks).reshape(shape)


def _names_in(*expressions: str) -> set[str]:
    return set().union(*(_names_of(expression) for expression in expressions))


@functools.lru_cache(maxsize=1024)
def _names_of(expression: str) -> frozenset[str]:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise HarnessError(f"not an expression: {expression!r} ({error})") from None
    return frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))


# ---------------------------------------------------------------------------------------
# Frameworks: building inputs in a dtype, reading outputs back.


@dataclass
class Output:
    values: np.ndarray  # float64, exactly the framework's values
    dtype: str  # "float16", … or a Python type name for something that is not an array
    shape: tuple
    overflowed: np.ndarray  # bool: Python's math raised OverflowError there
    errors: dict = field(default_factory=dict)  # index → exception text (math only)


def _import(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.skip(f"{module} is not installed")


def _array_output(values, dtype: str, shape) -> Output:
    values = np.asarray(values, dtype=np.float64).reshape(shape)
    return Output(values, dtype, tuple(shape), np.zeros(values.shape, bool))


def _foreign_output(result) -> Output:
    try:
        values = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.full((), np.nan)
    return Output(values, type(result).__name__, values.shape, np.zeros(values.shape, bool))


def _numpy_input(values, dtype):
    return np.asarray(values, dtype=dtype)


def _numpy_output(result) -> Output:
    if isinstance(result, (np.ndarray, np.generic)):
        array = np.asarray(result)
        return _array_output(array.astype(np.float64), array.dtype.name, array.shape)
    return _foreign_output(result)


def _torch_input(values, dtype):
    torch = _import("torch")
    return torch.tensor(values, dtype=torch.float64).to(getattr(torch, dtype))


def _torch_output(result) -> Output:
    torch = _import("torch")
    if not isinstance(result, torch.Tensor):
        return _foreign_output(result)
    values = result.detach().to(torch.float64).cpu().numpy()
    return _array_output(values, str(result.dtype).removeprefix("torch."), tuple(result.shape))


def _tf_input(values, dtype):
    tf = _import("tensorflow")
    return tf.cast(tf.constant(values, dtype=tf.float64), getattr(tf, dtype))


def _tf_output(result) -> Output:
    tf = _import("tensorflow")
    if not tf.is_tensor(result):
        return _foreign_output(result)
    return _array_output(tf.cast(result, tf.float64).numpy(), result.dtype.name, tuple(result.shape))


def _jax_input(values, dtype):
    jnp = _import("jax.numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float64 without jax_enable_x64: the dtype is checked
        return jnp.asarray(values, dtype=dtype)


def _jax_output(result) -> Output:
    jax = _import("jax")
    if not isinstance(result, jax.Array):
        return _foreign_output(result)
    array = np.asarray(result)
    return _array_output(array.astype(np.float64), str(result.dtype), array.shape)


def _keras_input(values, dtype):
    keras = _import("keras")
    return keras.ops.cast(keras.ops.convert_to_tensor(values), dtype)


def _keras_output(result) -> Output:
    keras = _import("keras")
    if not keras.ops.is_tensor(result):
        return _foreign_output(result)
    array = np.asarray(keras.ops.convert_to_numpy(result))
    return _array_output(array.astype(np.float64), keras.backend.standardize_dtype(result.dtype), array.shape)


@dataclass(frozen=True)
class Framework:
    name: str
    module: str | None  # must be importable, else the test is skipped
    dtypes: tuple[str, ...]  # the default ones
    flavor: str  # whose methods the reference's arrays have
    to_native: Callable | None = None  # (float64 values, dtype) → the framework's array
    to_output: Callable | None = None  # the framework's result → Output
    elementwise: bool = False  # Python's math: one float at a time
    # XLA (JAX, and TensorFlow's kernels) flushes subnormal results to zero on the CPU:
    # there, an exact value below the smallest normal number may come out as ±0.
    flushes_subnormals: bool = False


_IEEE = ("float16", "float32", "float64")
FRAMEWORKS = {
    "numpy": Framework("numpy", "numpy", _IEEE, "numpy.ndarray", _numpy_input, _numpy_output),
    "torch": Framework("torch", "torch", ("float16", "bfloat16", "float32", "float64"), "torch.Tensor",
                       _torch_input, _torch_output),
    "tf": Framework("tf", "tensorflow", _IEEE, "tensorflow.Tensor", _tf_input, _tf_output, flushes_subnormals=True),
    # jax arrays have numpy's methods
    "jax": Framework("jax", "jax", _IEEE, "numpy.ndarray", _jax_input, _jax_output, flushes_subnormals=True),
    "keras": Framework("keras", "keras", _IEEE, "keras.Tensor", _keras_input, _keras_output, flushes_subnormals=True),
    "math": Framework("math", None, ("float64",), "float", elementwise=True),
}
# Submodules an alias needs imported before attribute access finds them.
_SUBMODULES = {
    "scipy": ("scipy.special",),
    "torch": ("torch.nn.functional", "torch.special"),
    "jax": ("jax.nn", "jax.numpy", "jax.scipy.special"),
    "keras": ("keras.ops", "keras.activations", "keras.losses"),
}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _resolve(path: str):
    """The real object at a dotted path: the longest importable module, then attributes.
    A missing framework skips the test."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        if not _module_exists(module_name):
            continue
        found = _import(module_name)
        for submodule in _SUBMODULES.get(module_name, ()):
            try:
                importlib.import_module(submodule)
            except ImportError:
                pass
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    pytest.skip(f"{parts[0]} is not installed")


# How each library traces a function: NumPy on a traced value fails there.
TRACERS = {"tf": "tensorflow.function", "keras": "tensorflow.function", "jax": "jax.jit"}


def _traced(code, namespace, inputs, framework: Framework):
    """The expression computed inside a function that tf.function / jax.jit traces."""
    def program(**values):
        return eval(code, {**namespace, **values})  # noqa: S307

    module, _, name = TRACERS[framework.name].rpartition(".")
    return getattr(_import(module), name)(program)(**inputs)


def _run(code, namespace, inputs, framework: Framework, shape, traced: bool = False) -> Output:
    """Evaluate with the real framework (``traced``: under its tracer); exceptions
    propagate to the caller."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if traced:
            return framework.to_output(_traced(code, namespace, inputs, framework))
        if not framework.elementwise:
            return framework.to_output(eval(code, {**namespace, **inputs}))  # noqa: S307
        values = np.full(shape, np.nan)
        overflowed = np.zeros(shape, bool)
        errors, types = {}, set()
        for index in np.ndindex(shape):
            scope = {**namespace, **{name: float(array[index]) for name, array in inputs.items()}}
            try:
                result = eval(code, scope)  # noqa: S307
            except (ArithmeticError, ValueError) as error:  # math.exp(1000), math.log(0)
                errors[index] = f"{type(error).__name__}: {error}"
                overflowed[index] = isinstance(error, OverflowError)
                continue
            types.add(type(result).__name__)
            values[index] = float(result)
        dtype = "float64" if types <= {"float"} else "/".join(sorted(types))
        return Output(values, dtype, tuple(shape), overflowed, errors)


# ---------------------------------------------------------------------------------------
# The verdict and its report.


@dataclass
class ElementFailure:
    dtype: str
    regime: str
    index: tuple
    inputs: dict  # variable → its value at this index (when the shapes match)
    original: float
    fixed: float
    reference: float
    allowed: tuple[float, float]
    kind: str  # "regression" (the original was right here) | "not repaired"
    fixed_error: str | None = None  # math: the exception the fixed expression raised

    def describe(self, fmt: FloatFormat) -> str:
        show = functools.partial(_format, fmt=fmt)
        inputs = "".join(f"{name}={show(value)}  " for name, value in self.inputs.items())
        return (
            f"    [{', '.join(map(str, self.index))}] {inputs}original={show(self.original)}  "
            f"fixed={self.fixed_error or show(self.fixed)}  reference={show(self.reference)}  "
            f"allowed=[{show(self.allowed[0])}, {show(self.allowed[1])}]  ({self.kind})"
        )


@dataclass
class CheckFailure:
    dtype: str
    regime: str
    kind: str  # "dtype" | "shape" | "error"
    message: str


@dataclass
class Block:
    """One dtype × regime: what was evaluated and how it went."""

    dtype: str
    regime: str
    inputs: dict  # variable → float64 values, exactly as the framework holds them
    elements: int = 0
    defined: int = 0  # elements where the exact value exists
    original_wrong: int = 0  # … where the original misses it
    repaired: int = 0  # … and the fixed expression gets it
    tolerance_used: float = 0.0  # max |fixed - reference| / allowed half-width, passing elements
    failures: list = field(default_factory=list)


@dataclass
class FixReport:
    original: str
    fixed: str
    framework: str
    domain: str
    blocks: list = field(default_factory=list)
    skipped_dtypes: dict = field(default_factory=dict)  # dtype → why

    @property
    def failures(self) -> list:
        return [failure for block in self.blocks for failure in block.failures]

    @property
    def failed_regimes(self) -> set[str]:
        return {failure.regime for failure in self.failures}

    @property
    def failed_dtypes(self) -> set[str]:
        return {failure.dtype for failure in self.failures}

    @property
    def failure_kinds(self) -> set[str]:
        return {failure.kind for failure in self.failures}

    @property
    def checked(self) -> int:
        """Output elements compared with the reference."""
        return sum(block.defined for block in self.blocks)

    @property
    def original_wrong(self) -> int:
        return sum(block.original_wrong for block in self.blocks)

    @property
    def repaired(self) -> int:
        return sum(block.repaired for block in self.blocks)

    @property
    def tolerance_used(self) -> float:
        return max((block.tolerance_used for block in self.blocks), default=0.0)

    def summary(self) -> str:
        lines = [f"`{self.original}` -> `{self.fixed}` ({self.framework}, domain {self.domain})"]
        for block in self.blocks:
            lines.append(
                f"  {block.regime + '/' + block.dtype:<26} {block.elements:3} elements: original wrong at "
                f"{block.original_wrong:3}, repaired {block.repaired:3}, failures {len(block.failures):3}, "
                f"tolerance used {block.tolerance_used:.2f}"
            )
        lines.extend(f"  {dtype:>8} skipped: {why}" for dtype, why in self.skipped_dtypes.items())
        return "\n".join(lines)

    def describe_failures(self, blocks_shown: int = 8, elements_shown: int = 3) -> str:
        lines = [
            "the fixed expression does not reproduce the exact value of the original",
            f"  original: {self.original}",
            f"  fixed:    {self.fixed}",
            f"  ({self.framework}, domain {self.domain}; allowed = the original's exact range over "
            f"inputs·(1 ± {BACKWARD_ERROR_EPS} eps), ± {ROUNDING_ULPS} ulp)",
        ]
        failing = [block for block in self.blocks if block.failures]
        for block in failing[:blocks_shown]:
            fmt = FORMATS.get(block.dtype, FORMATS["float64"])
            elements = [f for f in block.failures if isinstance(f, ElementFailure)]
            checks = [f for f in block.failures if isinstance(f, CheckFailure)]
            header = f"{block.regime}/{block.dtype}:"
            if elements:
                kinds = collections.Counter(f.kind for f in elements)
                header += (
                    f" {len(elements)} of {block.elements} elements wrong "
                    f"(regression {kinds['regression']}, not repaired {kinds['not repaired']})"
                )
            lines.append(header)
            lines.extend(f"    {check.kind}: {check.message}" for check in checks)
            if elements:
                for name, values in block.inputs.items():
                    shown = np.array2string(values, precision=min(fmt.digits, 6), separator=", ", max_line_width=10**4)
                    lines.append(f"    {name} = {shown}")
                lines.extend(failure.describe(fmt) for failure in elements[:elements_shown])
                if len(elements) > elements_shown:
                    lines.append(f"    … and {len(elements) - elements_shown} more")
        if len(failing) > blocks_shown:
            lines.append(f"… and {len(failing) - blocks_shown} more failing dtype/regime blocks")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


class FixRejected(AssertionError):
    """The fixed expression is not as exact as the original (or changes its dtype/shape)."""

    def __init__(self, report: FixReport):
        self.report = report
        super().__init__(report.describe_failures())

    @property
    def failures(self) -> list:
        return self.report.failures


def _format(value, fmt: FloatFormat) -> str:
    return f"{float(value):.{fmt.digits}g}"


def _allowed(reference: Reference, out_fmt: FloatFormat, combining) -> tuple[np.ndarray, np.ndarray]:
    """The interval each output element must lie in (see the module docstring)."""
    value = reference.value
    magnitude = np.abs(value)
    if combining is None:
        magnitude = np.maximum(magnitude, 1.0)
    elif combining.any():
        magnitude = np.where(combining, np.maximum(magnitude, 1.0), magnitude)
    slack = ROUNDING_ULPS * out_fmt.ulp(magnitude)
    low, high = reference.range
    low = np.where(np.isnan(low), value, low) - slack  # no usable box: the point alone
    high = np.where(np.isnan(high), value, high) + slack
    return low, high


def _judge(
    block: Block, original: Output, fixed: Output | None, reference: Reference, out_fmt, combining, flush=False
) -> None:
    value = reference.value
    rounded = out_fmt.round(value)
    low, high = _allowed(reference, out_fmt, combining)
    defined = ~np.isnan(value)
    flushed = np.abs(rounded) < out_fmt.smallest_normal if flush else np.zeros(value.shape, dtype=bool)

    def accurate(output: Output) -> np.ndarray:
        v = output.values
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(v) & (v >= low) & (v <= high)
        # math's OverflowError where the exact value is beyond float64's range is exact
        return (v == rounded) | inside | (output.overflowed & np.isinf(rounded)) | (flushed & (v == 0))

    original_ok = accurate(original)
    block.elements = value.size
    block.defined = int(defined.sum())
    block.original_wrong = int((defined & ~original_ok).sum())
    if fixed is None:
        return
    fixed_ok = accurate(fixed)
    block.repaired = int((defined & ~original_ok & fixed_ok).sum())
    passing = defined & fixed_ok & np.isfinite(fixed.values) & np.isfinite(value)
    if passing.any():
        half_width = np.maximum(high[passing] - value[passing], value[passing] - low[passing])
        block.tolerance_used = float(np.max(np.abs(fixed.values[passing] - value[passing]) / half_width))
    for index in np.ndindex(value.shape):
        if fixed_ok[index] or not defined[index]:
            continue
        inputs = {name: values[index] for name, values in block.inputs.items() if values.shape == value.shape}
        block.failures.append(
            ElementFailure(
                block.dtype,
                block.regime,
                index,
                inputs,
                original.values[index],
                fixed.values[index],
                value[index],
                (low[index], high[index]),
                "regression" if original_ok[index] else "not repaired",
                fixed.errors.get(index),
            )
        )


def _check_reference_models_api(expression, original: Output, reference: Reference, block: Block, in_fmt) -> None:
    """On ordinary inputs the original must agree with its reference, else a shim models
    the API wrongly (a default axis, say) and no verdict would mean anything."""
    if reference.value.shape != original.values.shape:
        raise HarnessError(
            f"the reference of `{expression}` has shape {reference.value.shape}, the framework's "
            f"{original.values.shape}: a shim in REFERENCE_API models the API wrongly"
        )
    if block.regime != "ordinary":
        return
    scale = 1.0 + max((float(np.max(np.abs(v))) for v in block.inputs.values() if v.size), default=0.0)
    ours, exact = original.values, reference.value
    with np.errstate(invalid="ignore"):
        off = np.abs(ours - exact) > 0.1 * np.abs(exact) + 64 * in_fmt.eps * scale
    disagree = np.isfinite(ours) & np.isfinite(exact) & off
    if disagree.any():
        index = tuple(int(i) for i in np.argwhere(disagree)[0])
        raise HarnessError(
            f"on ordinary {block.dtype} inputs `{expression}` gives {ours[index]!r} at {index}, its "
            f"reference {exact[index]!r}: a shim in REFERENCE_API models the API wrongly (or the "
            f"original is off by 10% even there)"
        )


# ---------------------------------------------------------------------------------------
# The entry points.


def verify_fix(
    original: str,
    fixed: str,
    *,
    framework: str,
    domain: str | Domain | Mapping[str, str | Domain] = "real",
    variables: Sequence[str] = ("x",),
    dtypes: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    regimes: Sequence[str] | None = None,
    shape: tuple = DEFAULT_SHAPE,
    seed: int = 0,
    flushes_subnormals: bool | None = None,
    traced: bool = False,
) -> FixReport:
    """Execute ``original`` and ``fixed`` over every regime × dtype and compare each output
    element with the exact value of ``original``; raise FixRejected on any miss.

    framework  "numpy", "math", "torch", "tf", "jax" or "keras": how inputs are built
               (arrays, tensors, or one Python float at a time); skipped when missing.
    domain     a name in DOMAINS, a Domain, or a mapping variable → domain.
    variables  the input names; each gets the regime's values with its own seed.
    dtypes     default: all of the framework's (torch adds bfloat16; math is float64).
    names      extra names as dotted paths, e.g. {"lse": "scipy.special.logsumexp"}:
               bound to the real object and to its reference shim alike.
    regimes    only these regimes (default: all of the domain's).
    flushes_subnormals  accept ±0 where the exact value is below the smallest normal number
               (default: the framework's own setting; PyTorch's CPU sigmoid flushes in float32).
    traced     run both under tf.function (TensorFlow, Keras) or jax.jit (JAX), as a fix must.
    Returns the FixReport: per dtype × regime, where the original was wrong and what the
    fix repaired.
    """
    if framework not in FRAMEWORKS:
        raise HarnessError(f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
    if traced and framework not in TRACERS:
        raise HarnessError(f"{framework} has no tracer here; traced runs are for {', '.join(TRACERS)}")
    spec = FRAMEWORKS[framework]
    flush = spec.flushes_subnormals if flushes_subnormals is None else flushes_subnormals
    if spec.module:
        _import(spec.module)
    dtypes = tuple(dtypes or spec.dtypes)
    unknown = [d for d in dtypes if d not in FORMATS or (spec.elementwise and d != "float64")]
    if unknown:
        raise HarnessError(f"{framework} has no dtype {', '.join(unknown)}")
    aliases = {**ALIASES, **(names or {})}
    used = _names_in(original, fixed)
    namespace = {name: _resolve(path) for name, path in aliases.items() if name in used and name not in variables}
    original_code = compile(original, "<original>", "eval")
    fixed_code = compile(fixed, "<fixed>", "eval")
    domain_name = domain.name if isinstance(domain, Domain) else str(domain)
    report = FixReport(original, fixed, framework, domain_name)

    for dtype in dtypes:
        in_fmt = FORMATS[dtype]
        widen = BACKWARD_ERROR_EPS * in_fmt.eps
        by_regime = regime_inputs(variables, dtype=dtype, domain=domain, shape=shape, seed=seed)
        missing = set(regimes or ()) - set(by_regime)
        if missing:
            raise HarnessError(f"no regime {', '.join(sorted(missing))} in domain {domain_name}")
        for regime, raw_inputs in by_regime.items():
            if regimes is not None and regime not in regimes:
                continue
            native, inputs = _build_inputs(raw_inputs, dtype, spec)
            if inputs is None:
                report.skipped_dtypes[dtype] = native
                break
            block = Block(dtype, regime, inputs)
            report.blocks.append(block)
            try:
                original_out = _run(original_code, namespace, native, spec, shape, traced)
            except Exception as error:
                raise HarnessError(f"the original `{original}` fails on {dtype} {regime} inputs: {error!r}") from error
            out_fmt = FORMATS.get(original_out.dtype, FORMATS["float64"])
            reference = _exact(original, spec.flavor, aliases, inputs, widen, out_fmt)
            combining = _combining(original, spec.flavor, aliases, inputs)
            _check_reference_models_api(original, original_out, reference, block, in_fmt)
            try:
                fresh, _ = _build_inputs(raw_inputs, dtype, spec)  # in case the original wrote into its inputs
                fixed_out = _run(fixed_code, namespace, fresh, spec, shape, traced)
            except Exception as error:  # noqa: BLE001 - any exception is the fix's failure
                block.failures.append(CheckFailure(dtype, regime, "error", f"the fixed expression raises {error!r}"))
                _judge(block, original_out, None, reference, out_fmt, combining, flush)
                continue
            if fixed_out.dtype != original_out.dtype:
                message = f"fixed gives {fixed_out.dtype}, original {original_out.dtype}"
                block.failures.append(CheckFailure(dtype, regime, "dtype", message))
            if fixed_out.shape != original_out.shape:
                message = f"fixed gives shape {fixed_out.shape}, original {original_out.shape}"
                block.failures.append(CheckFailure(dtype, regime, "shape", message))
                fixed_out = None  # no element to compare with
            _judge(block, original_out, fixed_out, reference, out_fmt, combining, flush)

    if not report.blocks:
        pytest.skip(f"{framework}: no dtype to test ({'; '.join(report.skipped_dtypes.values())})")
    if report.failures:
        raise FixRejected(report)
    return report


def _build_inputs(raw_inputs, dtype, spec: Framework):
    """(native inputs, float64 values they hold), or (why not, None) when the framework
    cannot hold this dtype (JAX without x64 silently makes float64 float32)."""
    if spec.elementwise:
        rounded = {name: FORMATS[dtype].round(values) for name, values in raw_inputs.items()}
        return rounded, rounded
    native, held = {}, {}
    for name, values in raw_inputs.items():
        native[name] = spec.to_native(values, dtype)
        output = spec.to_output(native[name])
        if output.dtype != dtype:
            return f"{spec.name} holds {dtype} inputs as {output.dtype}", None
        held[name] = output.values
    return native, held


def clear_caches() -> None:
    """Forget cached references (after changing REFERENCE_API, e.g. in a test)."""
    _reference_cached.cache_clear()
    _dependencies_cached.cache_clear()


def reference(expression: str, *, framework: str, names: Mapping[str, str] | None = None, **inputs) -> np.ndarray:
    """The exact value of ``expression`` at float64 ``inputs``, as float64 (nan where it is
    undefined): what verify_fix compares with, for tests and debugging."""
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in inputs.items()}
    aliases = {**ALIASES, **(names or {})}
    return _exact(expression, FRAMEWORKS[framework].flavor, aliases, arrays, 0.0, FORMATS["float64"]).value
