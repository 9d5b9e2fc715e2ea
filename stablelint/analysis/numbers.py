"""Numbers in a dtype: a formula evaluated the way a framework computes it, every operation
rounded to the dtype (float16, bfloat16, float32, float64), with a forward-mode derivative.

A failure model writes its original and stable formulas once, in a canonical spelling
(``log(1 + x)``, ``log1p(x)``, ``log(sum(exp(x)))``); this module evaluates them at a
witness input, so the values a finding shows are computed, not written by hand. (The tests
execute the same formulas with NumPy, PyTorch, JAX and TensorFlow.) Vectors are tuples;
reductions reduce the whole vector. Pure Python: the linter depends on no array library.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

from stablelint.analysis.intervals import rounded

INF, NAN = math.inf, math.nan


class Num:
    """A vector (or a scalar: one element) in a dtype, with the derivative of each element
    along one input direction."""

    __slots__ = ("values", "tangents", "dtype", "scalar")

    def __init__(self, values, tangents, dtype: str, scalar: bool):
        self.values = tuple(values)
        self.tangents = tuple(tangents)
        self.dtype = dtype
        self.scalar = scalar

    # -- arithmetic (broadcasting a scalar over a vector)
    def _pair(self, other) -> tuple["Num", "Num"]:
        if not isinstance(other, Num):
            other = constant(other, self.dtype)
        return self, other

    def __add__(self, other):
        a, b = self._pair(other)
        return _binary(a, b, lambda x, y: x + y, lambda x, y, dx, dy: dx + dy)

    __radd__ = __add__

    def __sub__(self, other):
        a, b = self._pair(other)
        return _binary(a, b, lambda x, y: x - y, lambda x, y, dx, dy: dx - dy)

    def __rsub__(self, other):
        a, b = self._pair(other)
        return _binary(b, a, lambda x, y: x - y, lambda x, y, dx, dy: dx - dy)

    def __mul__(self, other):
        a, b = self._pair(other)
        return _binary(a, b, _times, lambda x, y, dx, dy: _times(dx, y) + _times(x, dy))

    __rmul__ = __mul__

    def __truediv__(self, other):
        a, b = self._pair(other)
        return _binary(a, b, _divide, lambda x, y, dx, dy: _divide(_times(dx, y) - _times(x, dy), _times(y, y)))

    def __rtruediv__(self, other):
        a, b = self._pair(other)
        return b.__truediv__(a)

    def __neg__(self):
        return Num([-x for x in self.values], [-d for d in self.tangents], self.dtype, self.scalar)

    def __pow__(self, exponent):
        n = float(exponent)
        return _unary(self, lambda x: _power(x, n), lambda x: _times(n, _power(x, n - 1)))

    def _compare(self, other, test) -> "Num":
        a, b = self._pair(other)
        return _binary(a, b, lambda x, y: 1.0 if test(x, y) else 0.0, lambda x, y, dx, dy: 0.0)

    def __gt__(self, other):
        return self._compare(other, lambda x, y: x > y)

    def __lt__(self, other):
        return self._compare(other, lambda x, y: x < y)

    def __eq__(self, other):  # elementwise, as arrays compare
        return self._compare(other, lambda x, y: x == y)

    def __ne__(self, other):
        return self._compare(other, lambda x, y: x != y)

    __hash__ = None

    def __getitem__(self, index: int):
        return Num([self.values[index]], [self.tangents[index]], self.dtype, True)


def _times(x: float, y: float) -> float:
    return NAN if (x == 0 and math.isinf(y)) or (y == 0 and math.isinf(x)) else x * y


def _divide(x: float, y: float) -> float:
    if y == 0:
        return NAN if x == 0 or math.isnan(x) else math.copysign(INF, x) * math.copysign(1.0, y)
    if math.isinf(x) and math.isinf(y):
        return NAN
    return x / y


def _power(x: float, n: float) -> float:
    try:
        return x ** n if not (x < 0 and n != int(n)) else NAN
    except OverflowError:
        return INF
    except ZeroDivisionError:
        return INF


def _round(x: float, dtype: str) -> float:
    return x if math.isnan(x) else rounded(x, dtype)


def _binary(a: Num, b: Num, value: Callable, tangent: Callable) -> Num:
    size = max(len(a.values), len(b.values))
    pick = lambda items, i: items[0] if len(items) == 1 else items[i]  # noqa: E731
    values, tangents = [], []
    for i in range(size):
        x, y, dx, dy = pick(a.values, i), pick(b.values, i), pick(a.tangents, i), pick(b.tangents, i)
        values.append(_round(value(x, y), a.dtype))
        tangents.append(_round(tangent(x, y, dx, dy), a.dtype))
    return Num(values, tangents, a.dtype, a.scalar and b.scalar)


def _unary(a: Num, value: Callable, derivative: Callable) -> Num:
    values, tangents = [], []
    for x, dx in zip(a.values, a.tangents):
        values.append(_round(value(x), a.dtype))
        tangents.append(_round(_times(derivative(x), dx), a.dtype))
    return Num(values, tangents, a.dtype, a.scalar)


def constant(value: float, dtype: str) -> Num:
    return Num([_round(float(value), dtype)], [0.0], dtype, True)


def variable(value, dtype: str, seed: int | None = None) -> Num:
    """An input: a float or a tuple; ``seed`` is the element the derivative is taken along."""
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    tangents = [1.0 if i == seed else 0.0 for i in range(len(values))]
    return Num([_round(float(x), dtype) for x in values], tangents, dtype, not isinstance(value, (tuple, list)))


# -- elementary functions (their library versions are correctly rounded or nearly)
def _safe(function: Callable[[float], float], below: float = NAN, above: float = INF):
    def safe(x: float) -> float:
        if math.isnan(x):
            return NAN
        try:
            return function(x)
        except OverflowError:
            return above
        except ValueError:
            return below
    return safe


def _exp(x: float) -> float:
    return 0.0 if x == -INF else _safe(math.exp)(x)


def _log(x: float) -> float:
    if x == 0:
        return -INF
    return NAN if x < 0 else (INF if x == INF else math.log(x))


def _log1p(x: float) -> float:
    if x == -1:
        return -INF
    return NAN if x < -1 else (INF if x == INF else math.log1p(x))


def _sigmoid(x: float) -> float:
    if math.isnan(x):
        return NAN
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _softplus(x: float) -> float:
    if math.isnan(x) or x == INF:
        return x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sqrt(x: float) -> float:
    return NAN if x < 0 else math.sqrt(x)


def exp(a: Num) -> Num:
    return _unary(a, _exp, _exp)


def log(a: Num) -> Num:
    return _unary(a, _log, lambda x: _divide(1.0, x))


def log1p(a: Num) -> Num:
    return _unary(a, _log1p, lambda x: _divide(1.0, 1 + x))


def expm1(a: Num) -> Num:
    return _unary(a, lambda x: -1.0 if x == -INF else _safe(math.expm1)(x), _exp)


def sqrt(a: Num) -> Num:
    return _unary(a, _sqrt, lambda x: _divide(1.0, 2 * _sqrt(x)))


def sigmoid(a: Num) -> Num:
    return _unary(a, _sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x))


def logsigmoid(a: Num) -> Num:
    return _unary(a, lambda x: -_softplus(-x), lambda x: _sigmoid(-x))


def softplus(a: Num) -> Num:
    return _unary(a, _softplus, _sigmoid)


def tanh(a: Num) -> Num:
    return _unary(a, math.tanh, lambda x: 1 - math.tanh(x) ** 2)


def atan(a: Num) -> Num:
    return _unary(a, math.atan, lambda x: 1 / (1 + x * x) if math.isfinite(x) else 0.0)


def atan2(y: Num, x: Num) -> Num:
    return _binary(y, x, math.atan2, lambda y_, x_, dy, dx: _divide(_times(x_, dy) - _times(y_, dx), x_ * x_ + y_ * y_))


def absolute(a: Num) -> Num:
    return _unary(a, abs, lambda x: math.copysign(1.0, x) if x else 0.0)


def maximum(a: Num, b) -> Num:
    a, b = a._pair(b)
    return _binary(a, b, max, lambda x, y, dx, dy: dx if x >= y else dy)


def xlogy(a: Num, b: Num) -> Num:
    return _binary(a, b, lambda x, y: 0.0 if x == 0 else _times(x, _log(y)),
                   lambda x, y, dx, dy: _times(dx, _log(y)) + _times(x, _divide(dy, y)) if x else 0.0)


def logaddexp(a: Num, b: Num) -> Num:
    def value(x, y):
        top = max(x, y)
        return top if math.isinf(top) else top + math.log1p(math.exp(-abs(x - y)))
    return _binary(a, b, value, lambda x, y, dx, dy: _sigmoid(x - y) * dx + _sigmoid(y - x) * dy)


def where(condition, if_true: Num, if_false: Num) -> Num:
    """Both branches are computed (as the frameworks do): a NaN derivative of the branch not
    taken still reaches the gradient (0 * nan)."""
    chosen = [bool(c) for c in (condition.values if isinstance(condition, Num) else [condition])]
    pick = lambda items, i: items[0] if len(items) == 1 else items[i]  # noqa: E731
    size = max(len(chosen), len(if_true.values), len(if_false.values))
    values, tangents = [], []
    for i in range(size):
        take = pick(chosen, i)
        values.append(pick(if_true.values, i) if take else pick(if_false.values, i))
        dt, df = pick(if_true.tangents, i), pick(if_false.tangents, i)
        tangents.append(_times(1.0 if take else 0.0, dt) + _times(0.0 if take else 1.0, df))
    return Num(values, tangents, if_true.dtype, if_true.scalar and if_false.scalar)


# -- reductions over the whole vector
def sum(a: Num) -> Num:  # noqa: A001 - the canonical name formulas use
    total, tangent = 0.0, 0.0
    for x, dx in zip(a.values, a.tangents):
        total, tangent = _round(total + x, a.dtype), _round(tangent + dx, a.dtype)
    return Num([total], [tangent], a.dtype, True)


def mean(a: Num) -> Num:
    return sum(a) / len(a.values)


def var(a: Num) -> Num:
    centred = a - mean(a)
    return mean(centred * centred)


def std(a: Num) -> Num:
    return sqrt(var(a))


def norm(a: Num) -> Num:
    return sqrt(sum(a * a))


def max_(a: Num) -> Num:
    index = max(range(len(a.values)), key=lambda i: a.values[i])
    return a[index]


def cumsum(a: Num) -> Num:
    values, tangents, total, tangent = [], [], 0.0, 0.0
    for x, dx in zip(a.values, a.tangents):
        total, tangent = _round(total + x, a.dtype), _round(tangent + dx, a.dtype)
        values.append(total)
        tangents.append(tangent)
    return Num(values, tangents, a.dtype, a.scalar)


def logsumexp(a: Num) -> Num:
    top = max_(a)
    if math.isinf(top.values[0]):
        return top
    return top + log(sum(exp(a - top)))


def softmax(a: Num) -> Num:
    shifted = exp(a - max_(a))
    return shifted / sum(shifted)


def log_softmax(a: Num) -> Num:
    return a - logsumexp(a)


def logcumsumexp(a: Num) -> Num:
    values, tangents = [], []
    for i in range(len(a.values)):
        prefix = Num(a.values[: i + 1], a.tangents[: i + 1], a.dtype, False)
        found = logsumexp(prefix)
        values.append(found.values[0])
        tangents.append(found.tangents[0])
    return Num(values, tangents, a.dtype, a.scalar)


def dot(a: Num, b: Num) -> Num:
    return sum(a * b)


def prod(a: Num) -> Num:
    result = a[0]
    for index in range(1, len(a.values)):
        result = result * a[index]
    return result


def vector_norm(a: Num) -> Num:
    """The norm as libraries compute it: scaled by the largest magnitude (no overflow of the
    squares), with the subgradient 0 at 0."""
    scale = max((abs(x) for x in a.values), default=0.0)
    if scale == 0 or not math.isfinite(scale):
        return Num([scale], [0.0], a.dtype, True)
    total = math.fsum((x / scale) ** 2 for x in a.values)
    value = scale * math.sqrt(total)
    tangent = math.fsum(x * dx for x, dx in zip(a.values, a.tangents)) / value
    return Num([_round(value, a.dtype)], [_round(tangent, a.dtype)], a.dtype, True)


def clamp_min(a: Num, low) -> Num:
    """``clamp(a, min=low)`` as autograd differentiates it: the incoming derivative times a 0/1
    mask, so a NaN derivative below the clamp stays NaN (0 * nan)."""
    a, b = a._pair(low)
    return _binary(a, b, max, lambda x, y, dx, dy: _times(1.0 if x >= y else 0.0, dx))


def clamp_max(a: Num, high) -> Num:
    a, b = a._pair(high)
    return _binary(a, b, min, lambda x, y, dx, dy: _times(1.0 if x <= y else 0.0, dx))


def lgamma(a: Num) -> Num:
    def digamma(x: float) -> float:  # enough for the derivative's finiteness
        return (math.lgamma(x + 1e-6) - math.lgamma(x - 1e-6)) / 2e-6 if x > 1e-6 else NAN
    return _unary(a, _safe(math.lgamma, below=INF), digamma)


def isnan(a: Num) -> Num:
    return _unary(a, lambda x: 1.0 if math.isnan(x) else 0.0, lambda x: 0.0)


def bce(p: Num, y: Num) -> Num:
    """PyTorch's binary cross-entropy on probabilities: its logs are clamped at -100."""
    return -(y * maximum(log(p), -100.0) + (1 - y) * maximum(log(1 - p), -100.0))


def bce_with_logits(x: Num, y: Num) -> Num:
    return softplus(x) - x * y


NAMESPACE = {
    "exp": exp, "log": log, "log1p": log1p, "expm1": expm1, "sqrt": sqrt, "sigmoid": sigmoid,
    "logsigmoid": logsigmoid, "softplus": softplus, "tanh": tanh, "atan": atan, "atan2": atan2, "abs": absolute,
    "maximum": maximum, "xlogy": xlogy, "logaddexp": logaddexp, "where": where, "sum": sum, "mean": mean,
    "var": var, "std": std, "norm": norm, "max": max_, "cumsum": cumsum, "logsumexp": logsumexp,
    "softmax": softmax, "log_softmax": log_softmax, "logcumsumexp": logcumsumexp, "dot": dot, "prod": prod,
    "vector_norm": vector_norm, "isnan": isnan, "clamp_min": clamp_min, "clamp_max": clamp_max, "lgamma": lgamma,
    "bce": bce, "bce_with_logits": bce_with_logits, "nan": NAN,
}


def evaluate(formula: str, inputs: dict[str, object], dtype: str, seed: tuple[str, int] | None = None) -> Num:
    """``formula`` at ``inputs`` in ``dtype``; with ``seed`` (an input and an element), the
    result's tangents are the derivatives along that element."""
    scope = {
        name: variable(value, dtype, seed[1] if seed and seed[0] == name else None) for name, value in inputs.items()
    }
    return eval(_compiled(formula), {"__builtins__": {}, **NAMESPACE}, scope)  # noqa: S307 - the rules' own formulas


@lru_cache(maxsize=1024)
def _compiled(formula: str):
    """The rules' formulas are a few dozen strings, evaluated for every finding."""
    return compile(formula, "<formula>", "eval")


def gradient(formula: str, inputs: dict[str, object], dtype: str, of: str) -> tuple[float, ...]:
    """The gradient of ``sum(formula)`` with respect to input ``of`` (one element per entry)."""
    value = inputs[of]
    count = len(value) if isinstance(value, (tuple, list)) else 1
    found = []
    for index in range(count):
        result = evaluate(formula, inputs, dtype, seed=(of, index))
        total = 0.0
        for tangent in result.tangents:
            total = total + tangent if not (math.isinf(total) and math.isinf(tangent) and total != tangent) else NAN
        found.append(_round(total, dtype))
    return tuple(found)
