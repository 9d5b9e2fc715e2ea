"""Property tests of the interval domain (stablelint/analysis/intervals.py).

For random concrete inputs inside the input intervals, the real NumPy / PyTorch result
lies inside the output interval, in each dtype: a number (±inf included) in [lo, hi], and
NaN only where the interval says ``nan``.

The inputs are numbers of the dtype: a drawn point is converted to the dtype (and moved
one step toward the interval when the conversion pushed it out); an interval of float32
values holds float32 numbers, so a point no float32 number reaches is not a float32 input.

Two kinds of claim, tested differently:

* ``exp``, ``expm1``, ``sigmoid``, ``tanh`` and ``softplus`` take the dtype and model its
  rounding (overflow to inf, underflow to 0, rounding to 1): whatever NumPy and PyTorch
  compute in that dtype lies inside, exactly.
* Arithmetic, ``log``, ``log1p``, ``sqrt``, ``power``, ``absolute``, ``clamp``... are sound for
  real arithmetic widened by one float64 ulp. Decision: they are checked exactly in
  float64, on float64 inputs and on float16/bfloat16/float32 inputs computed in float64;
  what float16/bfloat16/float32 arithmetic returns is checked against the interval widened
  by that dtype's rounding (``loosened``: 2 eps relative, one subnormal, ±inf past the
  largest finite number). A float32 log(2) lies above the real log(2) by less than an ulp,
  which no dtype-free interval can say, and that rounding decides no hazard: signs, zeros,
  infinities and NaN come out the same. The ops that do not round (neg, abs, relu, clamp,
  maximum, minimum) and those whose rounding cannot cross what they claim (sum: a float
  sum of elements >= lo >= 0 is >= lo; norm: [0, inf]) are checked exactly in every dtype.
* Reductions of 1-8 elements: a float sum is off its real value by ~n eps, so mean, var and
  std are checked with that tolerance; finite elements whose sum overflows (then
  inf - inf is NaN) are float overflow, which the reductions do not model, so there NaN
  and the tolerance checks are waived.

NumPy computes float16, float32 and float64; PyTorch bfloat16 and float32 (and, for the
dtype tables, every dtype). Every property runs 200 derandomized examples, so CI runs the
same cases in bounded time.
"""

from __future__ import annotations

import bisect
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stablelint.analysis import intervals as iv
from stablelint.analysis.intervals import INF, Interval

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None
try:
    import mpmath
except ImportError:  # pragma: no cover
    mpmath = None
try:
    import scipy.special as special
except ImportError:  # pragma: no cover
    special = None

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

NUMPY_DTYPES = ("float16", "float32", "float64")
# The transfer functions are checked against torch in float32 and bfloat16 (float16 and float64
# are NumPy's); the dtype tables against torch in every dtype.
TORCH_DTYPES = ("bfloat16", "float32") if torch is not None else ()
ALL_TORCH_DTYPES = ("float16", "bfloat16", "float32", "float64") if torch is not None else ()
DTYPES = ("float16", "bfloat16", "float32", "float64") if torch is not None else NUMPY_DTYPES
LN2 = math.log(2)

# -- where the interesting inputs are

_THRESHOLDS = [
    *iv.EXP_OVERFLOW.values(), *iv.EXP_UNDERFLOW.values(), *iv.SIGMOID_ONE.values(),
    # For p significand bits (float16, bfloat16, float32, float64): 1 / (1 + exp(-x)) rounds
    # to 1 from p ln 2, and tanh(x) from (p + 2) ln 2 / 2 (9.01 in float32).
    *(p * LN2 for p in (11, 8, 24, 53)), *((p + 2) * LN2 / 2 for p in (11, 8, 24, 53)),
    20.0, 30.0, 100.0, 700.0, 745.0, 1e3,
]
_SMALL = [0.0, -0.0, 1.0, 0.5, 2.0, 3.0, 0.1, 1e-3, 1e-8, 1e-10, 1e-20, 1e-40, 1e-45, 1e-300,
          2.0 ** -14, 2.0 ** -24, 2.0 ** -126, 2.0 ** -133, 2.0 ** -149, 5e-324, 6e-8]
_HUGE = [65504.0, 65520.0, 1e5, 1e38, 3.3895313892515355e38, 3.4028234663852886e38, 1e39, 1e300,
         1.7976931348623157e308]


def _near(x: float) -> list[float]:
    """x, the floats next to it, and numbers just off it in float16/bfloat16/float32 spacing."""
    return [x, math.nextafter(x, INF), math.nextafter(x, -INF)] + [x * (1 + k) for k in (1e-7, -1e-7, 1e-4, -1e-4, 1e-2, -1e-2)]


NEAR = sorted({sign * y for x in _THRESHOLDS for y in _near(x) for sign in (1, -1)}
              | {sign * x for x in _SMALL + _HUGE for sign in (1, -1)})
POOL = NEAR + [INF, -INF]
SEEDS = st.integers(0, 2 ** 32 - 1)


def intervals(reaching_zero: bool = False):
    """A strategy for [lo, hi], with or without NaN. Each endpoint is hypothesis's float (huge,
    tiny, subnormal, 0, ±inf and all between), or, as the drawn ``shape`` says, an ordinary
    number in [-100, 100], one of ``POOL`` (the thresholds, huge and tiny numbers), ±inf or
    0; one interval in five is a point. (A seed stands for the shape: one choice per draw is
    what keeps 200 examples per property fast.)"""

    def interval(x: float, y: float, shape: int) -> Interval:
        pick = random.Random(shape)

        def end(drawn: float) -> float:
            kind = pick.randrange(5)
            if kind == 0:
                return drawn
            if kind == 1:
                return pick.uniform(-100, 100)
            return pick.choice(POOL) if kind == 2 else pick.choice((INF, -INF)) if kind == 3 else 0.0

        ends = [end(x), end(y)]
        if pick.randrange(5) == 0:
            ends[1] = ends[0]
        lo, hi = min(ends), max(ends)
        if reaching_zero:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        return Interval(lo, hi, pick.random() < 0.5)

    return st.builds(interval, st.floats(allow_nan=False), st.floats(allow_nan=False), SEEDS)


def concrete_points(a: Interval, seed: int, every_near: bool = True) -> np.ndarray:
    """The points of ``a`` that a drawn seed stands for: its ends (when infinite, ±inf and the
    largest floats), the floats next to them, 0 and the thresholds, huge and tiny numbers
    inside it (all of them, or 3), random numbers inside (uniform, and of every magnitude),
    and NaN when ``a`` may be NaN."""
    pick = random.Random(seed)
    near = NEAR[bisect.bisect_left(NEAR, a.lo):bisect.bisect_right(NEAR, a.hi)]
    if not every_near and len(near) > 3:
        near = pick.sample(near, 3)
    found = [a.lo, a.hi, math.nextafter(a.lo, a.hi), math.nextafter(a.hi, a.lo), 0.0, *near]
    if a.lo != a.hi:
        if math.isfinite(a.hi - a.lo):
            found += [pick.uniform(a.lo, a.hi), pick.uniform(a.lo, a.hi)]
        found += [pick.choice((-1.0, 1.0)) * 10.0 ** pick.uniform(*span) for span in ((-46, 40), (-324, 308.25)) * 2]
    found = [x for x in found if a.lo <= x <= a.hi]
    return np.array(found + [math.nan] if a.nan else found, dtype=np.float64)


# -- numbers of a dtype


def to_dtype(values: np.ndarray, dtype: str) -> np.ndarray:
    """float64 values rounded to the nearest ``dtype`` number, returned as float64."""
    with np.errstate(over="ignore"):
        if dtype == "bfloat16":
            return torch.from_numpy(values).to(torch.bfloat16).to(torch.float64).numpy()
        return values.astype(dtype).astype(np.float64)


def step(values: np.ndarray, dtype: str, toward: float) -> np.ndarray:
    """The ``dtype`` numbers next to ``values`` (themselves ``dtype`` numbers) toward ``toward``."""
    if dtype == "bfloat16":
        tensor = torch.from_numpy(values).to(torch.bfloat16)
        return torch.nextafter(tensor, torch.full_like(tensor, toward)).to(torch.float64).numpy()
    kind = np.dtype(dtype).type
    return np.nextafter(values.astype(dtype), kind(toward)).astype(np.float64)


def inside(xs, a: Interval, dtype: str) -> np.ndarray:
    """The ``dtype`` numbers nearest ``xs`` that lie in ``a`` (NaN kept when ``a`` may be NaN)."""
    xs = np.asarray(xs, dtype=np.float64)
    nan = np.isnan(xs)
    near = xs.copy() if dtype == "float64" else to_dtype(xs, dtype)
    with np.errstate(invalid="ignore"):
        low, high = near < a.lo, near > a.hi
        if low.any():
            near[low] = step(near[low], dtype, INF)
        if high.any():
            near[high] = step(near[high], dtype, -INF)
        keep = ((near >= a.lo) & (near <= a.hi)) | (nan & a.nan)
    return near[keep]


def at_or_below(x: float, dtype: str) -> float:
    near = to_dtype(np.array([x]), dtype)
    return float(step(near, dtype, -INF)[0] if near[0] > x else near[0])


def at_or_above(x: float, dtype: str) -> float:
    near = to_dtype(np.array([x]), dtype)
    return float(step(near, dtype, INF)[0] if near[0] < x else near[0])


def next_up(x: float, dtype: str) -> float:
    return float(step(np.array([x]), dtype, INF)[0])


def next_down(x: float, dtype: str) -> float:
    return float(step(np.array([x]), dtype, -INF)[0])


# -- running the real operations


def run_numpy(fn, dtype: str, *args: np.ndarray) -> np.ndarray:
    """``fn`` on NumPy arrays of ``dtype`` (whose numbers the float64 ``args`` already are)."""
    with np.errstate(all="ignore"):
        result = np.asarray(fn(*(np.asarray(arg, dtype=dtype) for arg in args)))
    assert result.dtype == np.dtype(dtype), f"{fn} computed in {result.dtype}, not {dtype}"
    return result.astype(np.float64)


def run_torch(fn, dtype: str, *args: np.ndarray) -> np.ndarray:
    """``fn`` on torch tensors of ``dtype``."""
    kind = getattr(torch, dtype)
    result = fn(*(torch.from_numpy(np.ascontiguousarray(arg, dtype=np.float64)).to(kind) for arg in args))
    assert result.dtype == kind, f"{fn} computed in {result.dtype}, not {dtype}"
    return result.to(torch.float64).numpy()


def loosened(out: Interval, dtype: str) -> Interval:
    """``out`` widened by ``dtype``'s rounding, for what a dtype-free transfer function does not model."""
    if dtype == "float64":
        return out

    def down(x: float) -> float:
        y = x if math.isinf(x) else x - abs(x) * 2 * iv.EPS[dtype] - iv.TINY[dtype]
        return -INF if y < -iv.MAX[dtype] else y

    def up(x: float) -> float:
        y = x if math.isinf(x) else x + abs(x) * 2 * iv.EPS[dtype] + iv.TINY[dtype]
        return INF if y > iv.MAX[dtype] else y

    return Interval(down(out.lo), up(out.hi), out.nan)


def assert_inside(out: Interval, results: np.ndarray, inputs: tuple, what: str) -> None:
    results = np.asarray(results, dtype=np.float64).ravel()
    nan = np.isnan(results)
    numbers = results[~nan]
    if (out.nan or not nan.any()) and (not numbers.size or (numbers.min() >= out.lo and numbers.max() <= out.hi)):
        return
    with np.errstate(invalid="ignore"):
        bad = (nan & (not out.nan)) | (~nan & ((results < out.lo) | (results > out.hi)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if results.size == 1:  # a reduction: its elements
            args = ", ".join(repr(np.asarray(x, dtype=np.float64).tolist()) for x in inputs)
        else:
            args = ", ".join(repr(float(np.asarray(x, dtype=np.float64).ravel()[i])) for x in inputs)
        raise AssertionError(f"{what}({args}) = {results[i]!r}, outside {out!r}")


# How a claim is checked (see the module docstring):
IN_DTYPE = "in dtype"  # out is for this dtype: the results in it lie in out, exactly
REAL = "real"  # out is real arithmetic: float64 results exactly, results in the dtype loosened
EXACT = "exact"  # an op that does not round: exactly, in the dtype and in float64


def check(out: Interval, dtype: str, inputs: tuple, numpy_fn=None, torch_fn=None, *, mode: str = REAL,
          what: str = "") -> None:
    """The real results on ``inputs`` (numbers of ``dtype``) lie in ``out``, as ``mode`` says."""
    in_dtype = loosened(out, dtype) if mode == REAL else out
    if numpy_fn is not None and dtype in NUMPY_DTYPES:
        assert_inside(in_dtype, run_numpy(numpy_fn, dtype, *inputs), inputs, f"numpy {dtype} {what}")
    if torch_fn is not None and dtype in TORCH_DTYPES:
        assert_inside(in_dtype, run_torch(torch_fn, dtype, *inputs), inputs, f"torch {dtype} {what}")
    if mode != IN_DTYPE and dtype != "float64":  # the same inputs, computed in float64
        if numpy_fn is not None:
            assert_inside(out, run_numpy(numpy_fn, "float64", *inputs), inputs, f"numpy float64 on {dtype} {what}")
        elif torch_fn is not None:
            assert_inside(out, run_torch(torch_fn, "float64", *inputs), inputs, f"torch float64 on {dtype} {what}")


def unary(a: Interval, xs: list[float], transfer, numpy_fn=None, torch_fn=None, *, mode: str = REAL) -> None:
    """``transfer(a)`` (``transfer(a, dtype)`` in mode IN_DTYPE) holds the results on ``xs``."""
    for dtype in DTYPES:
        inputs = inside(xs, a, dtype)
        if inputs.size:
            out = transfer(a, dtype) if mode == IN_DTYPE else transfer(a)
            check(out, dtype, (inputs,), numpy_fn, torch_fn, mode=mode, what=f"{transfer.__name__} of {a}:")


def binary(a: Interval, b: Interval, xs: list[float], ys: list[float], transfer, numpy_fn=None, torch_fn=None,
           *, mode: str = REAL) -> None:
    """``transfer(a, b)`` holds the results on every pair of ``xs`` and ``ys``."""
    out = transfer(a, b)
    for dtype in DTYPES:
        left, right = inside(xs, a, dtype), inside(ys, b, dtype)
        if left.size and right.size:
            x, y = (grid.ravel() for grid in np.meshgrid(left, right))
            check(out, dtype, (x, y), numpy_fn, torch_fn, mode=mode, what=f"{transfer.__name__} of {a}, {b}:")


# -- arithmetic


@PROPERTY
@given(intervals(), intervals(), SEEDS)
def test_add(a, b, seed):
    binary(a, b, concrete_points(a, seed, False), concrete_points(b, seed + 1, False), iv.add, np.add, torch.add if torch else None)


@PROPERTY
@given(intervals(), intervals(), SEEDS)
def test_sub(a, b, seed):
    binary(a, b, concrete_points(a, seed, False), concrete_points(b, seed + 1, False), iv.sub, np.subtract,
           torch.sub if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_neg(a, seed):
    unary(a, concrete_points(a, seed), iv.neg, np.negative, torch.neg if torch else None, mode=EXACT)


@PROPERTY
@given(intervals(), intervals(), SEEDS)
def test_mul(a, b, seed):
    binary(a, b, concrete_points(a, seed, False), concrete_points(b, seed + 1, False), iv.mul, np.multiply,
           torch.mul if torch else None)


@PROPERTY
@given(intervals(), intervals(), SEEDS)
def test_div(a, b, seed):
    binary(a, b, concrete_points(a, seed, False), concrete_points(b, seed + 1, False), iv.div, np.divide,
           torch.div if torch else None)


@PROPERTY
@given(intervals(), intervals(reaching_zero=True), SEEDS)
def test_div_by_a_divisor_reaching_zero(a, b, seed):
    out = iv.div(a, b)
    assert out.unbounded
    assert out.nan or not a.reaches(0), "0 / 0 is NaN"
    zeros = [0.0, -0.0]
    binary(a, b, [*concrete_points(a, seed, False), *zeros], [*concrete_points(b, seed + 1, False), *zeros], iv.div,
           np.divide, torch.div if torch else None)


@PROPERTY
@given(intervals(), st.sampled_from([0, 1, 2, 3, 4, 0.5]), SEEDS)
def test_power(a, exponent, seed):
    def transfer(interval):
        return iv.power(interval, exponent)

    transfer.__name__ = f"power(·, {exponent})"
    unary(a, concrete_points(a, seed), transfer, lambda x: np.power(x, exponent),
          (lambda x: torch.pow(x, exponent)) if torch else None)


# -- elementwise functions that model the dtype


@PROPERTY
@given(intervals(), SEEDS)
def test_exp(a, seed):
    unary(a, concrete_points(a, seed), iv.exp, np.exp, torch.exp if torch else None, mode=IN_DTYPE)


@PROPERTY
@given(intervals(), SEEDS)
def test_expm1(a, seed):
    unary(a, concrete_points(a, seed), iv.expm1, np.expm1, torch.expm1 if torch else None, mode=IN_DTYPE)


@PROPERTY
@given(intervals(), SEEDS)
def test_sigmoid(a, seed):
    xs = concrete_points(a, seed)
    # The textbook formula (what a hand-written sigmoid computes), torch's kernel, scipy's expit.
    unary(a, xs, iv.sigmoid, lambda x: 1 / (1 + np.exp(-x)), torch.sigmoid if torch else None, mode=IN_DTYPE)
    for dtype in ("float32", "float64") if special is not None else ():  # expit computes float16 in float64
        inputs = inside(xs, a, dtype)
        if inputs.size:
            assert_inside(iv.sigmoid(a, dtype), run_numpy(special.expit, dtype, inputs), (inputs,), f"expit {dtype}")


@PROPERTY
@given(intervals(), SEEDS)
def test_tanh(a, seed):
    unary(a, concrete_points(a, seed), iv.tanh, np.tanh, torch.tanh if torch else None, mode=IN_DTYPE)


@PROPERTY
@given(intervals(), SEEDS)
def test_softplus(a, seed):
    # torch.nn.functional.softplus returns x itself above threshold=20: not this function.
    unary(a, concrete_points(a, seed), iv.softplus, lambda x: np.logaddexp(0, x), mode=IN_DTYPE)


# -- elementwise functions of real arithmetic


@PROPERTY
@given(intervals(), SEEDS)
def test_log(a, seed):
    unary(a, concrete_points(a, seed), iv.log, np.log, torch.log if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_log1p(a, seed):
    unary(a, concrete_points(a, seed), iv.log1p, np.log1p, torch.log1p if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_sqrt(a, seed):
    unary(a, concrete_points(a, seed), iv.sqrt, np.sqrt, torch.sqrt if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_absolute(a, seed):
    unary(a, concrete_points(a, seed), iv.absolute, np.abs, torch.abs if torch else None, mode=EXACT)


@PROPERTY
@given(intervals(), SEEDS)
def test_relu(a, seed):
    unary(a, concrete_points(a, seed), iv.relu, lambda x: np.maximum(x, 0), torch.relu if torch else None, mode=EXACT)


@PROPERTY
@given(intervals(), SEEDS)
def test_rsqrt(a, seed):
    unary(a, concrete_points(a, seed), iv.rsqrt, lambda x: 1 / np.sqrt(x), torch.rsqrt if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_reciprocal(a, seed):
    unary(a, concrete_points(a, seed), iv.reciprocal, np.reciprocal, torch.reciprocal if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_relu6(a, seed):
    unary(a, concrete_points(a, seed), iv.relu6, lambda x: np.clip(x, 0, 6),
          torch.nn.functional.relu6 if torch else None, mode=EXACT)


def _gelu(x):
    # erf has no float16 kernel: computed in float64, rounded to the input's dtype.
    erf = special.erf if special is not None else np.vectorize(math.erf)
    return (0.5 * x * (1 + erf(x.astype(np.float64) / np.sqrt(2)))).astype(x.dtype)


def _gelu_tanh(x):
    with np.errstate(all="ignore"):  # x ** 3 overflows in float16 long before tanh saturates
        wide = x.astype(np.float64)
        return (0.5 * wide * (1 + np.tanh(np.sqrt(2 / np.pi) * (wide + 0.044715 * wide ** 3)))).astype(x.dtype)


@PROPERTY
@given(intervals(), SEEDS)
def test_activations_bounded_below(a, seed):
    xs = concrete_points(a, seed)
    functional = torch.nn.functional if torch else None
    unary(a, xs, iv.elu, lambda x: np.where(x >= 0, x, np.expm1(np.minimum(x, 0))),
          functional.elu if torch else None)
    unary(a, xs, iv.gelu, _gelu, functional.gelu if torch else None)
    unary(a, xs, iv.gelu, _gelu_tanh, (lambda x: functional.gelu(x, approximate="tanh")) if torch else None)
    unary(a, xs, iv.silu, lambda x: x / (1 + np.exp(-x)), functional.silu if torch else None)


@PROPERTY
@given(intervals(), SEEDS)
def test_bounded_activations(a, seed):
    xs = concrete_points(a, seed)
    functional = torch.nn.functional if torch else None
    unary(a, xs, iv.softsign, lambda x: x / (1 + np.abs(x)), functional.softsign if torch else None)
    unary(a, xs, iv.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), functional.hardsigmoid if torch else None)
    unary(a, xs, iv.log_sigmoid, lambda x: -np.logaddexp(0, -x), functional.logsigmoid if torch else None,
          mode=IN_DTYPE)


@PROPERTY
@given(intervals(), SEEDS, st.integers(1, 64))
def test_softmax(a, seed, n):
    """Every probability of a softmax over n inputs inside ``a`` lies in iv.softmax(a)."""
    rng = np.random.default_rng(seed)
    points = np.array(concrete_points(a, seed))
    for dtype in ("float32", "float64"):
        inputs = inside(list(rng.choice(points, size=n)), a, dtype) if points.size else np.array([])
        if not inputs.size or not np.isfinite(inputs).all():
            continue
        out = iv.softmax(a, dtype)
        results = [run_numpy(lambda x: special.softmax(x) if special else np.exp(x - x.max()) / np.exp(x - x.max()).sum(),
                             dtype, inputs)]
        if torch is not None:
            results.append(torch.softmax(torch.tensor(inputs, dtype=getattr(torch, dtype)), 0).numpy())
        for result in results:
            assert_inside(out, result, (inputs,), f"softmax {dtype} of {a}")


# A clamp bound: none, a literal (a point), or an interval (a tensor bound), never NaN.
BOUNDS = st.builds(lambda b, kind: (None, iv.point(b.lo), Interval(b.lo, b.hi))[kind], intervals(), st.integers(0, 2))


@PROPERTY
@given(intervals(), BOUNDS, BOUNDS, SEEDS)
def test_clamp(a, low, high, seed):
    out = iv.clamp(a, low, high)
    xs = concrete_points(a, seed, False)
    lows = concrete_points(low, seed + 1, False) if low is not None else None
    highs = concrete_points(high, seed + 2, False) if high is not None else None
    for dtype in DTYPES:
        x = inside(xs, a, dtype)
        bounds = [inside(found, bound, dtype) for found, bound in ((lows, low), (highs, high)) if bound is not None]
        if not x.size or any(not bound.size for bound in bounds):
            continue
        grids = tuple(grid.ravel() for grid in np.meshgrid(x, *bounds))
        check(out, dtype, grids, _clamping(np.clip, np.positive, low, high),
              _clamping(torch.clamp, torch.clone, low, high) if torch else None, mode=EXACT,
              what=f"clamp of {a}, {low}, {high}:")


def _clamping(clamp, identity, low, high):
    """clamp(x, min, max) taking x and then only the bounds that are not None (numpy and torch
    refuse two None bounds: then it is x itself)."""
    if low is None and high is None:
        return identity

    def clamped(x, *bounds):
        supplied = iter(bounds)
        return clamp(x, next(supplied) if low is not None else None, next(supplied) if high is not None else None)

    return clamped


@PROPERTY
@given(intervals(), intervals(), SEEDS)
def test_maximum(a, b, seed):
    binary(a, b, concrete_points(a, seed, False), concrete_points(b, seed + 1, False), iv.maximum, np.maximum,
           torch.maximum if torch else None, mode=EXACT)


@PROPERTY
@given(intervals(), intervals(), SEEDS)
def test_minimum(a, b, seed):
    binary(a, b, concrete_points(a, seed, False), concrete_points(b, seed + 1, False), iv.minimum, np.minimum,
           torch.minimum if torch else None, mode=EXACT)


# -- reductions over 1-8 elements


def _overflows(elements: np.ndarray, dtype: str, power: int = 1) -> bool:
    """Can float sums of these (finite) elements, or of their squares, overflow in ``dtype``?"""
    largest = float(np.abs(elements[np.isfinite(elements)]).max(initial=0.0)) * 2
    return elements.size * (largest if power == 1 else largest * largest) * 4 > iv.MAX[dtype]


def _tolerance(out: Interval, slack: float) -> Interval:
    return Interval(out.lo - slack, out.hi + slack, out.nan)


def _reduced(a: Interval, seed: int):
    """(dtype, 1-8 elements of ``a`` in it) for each dtype that has numbers in ``a``; half the
    elements come from the ends of ``a`` (both infinities, when it has them)."""
    xs, pick = concrete_points(a, seed), random.Random(seed)
    for dtype in DTYPES:
        found = inside(xs, a, dtype)
        if found.size:
            ends = found[:2]  # a.lo and a.hi in the dtype (or the dtype numbers next to them)
            yield dtype, np.array([pick.choice(ends if pick.random() < 0.5 else found) for _ in range(pick.randint(1, 8))])


@PROPERTY
@given(intervals(), SEEDS)
def test_total(a, seed):
    out = iv.total(a)
    for dtype, elements in _reduced(a, seed):
        allowed = Interval(out.lo, out.hi, out.nan or _overflows(elements, dtype))
        # A float sum of elements >= lo >= 0 is >= lo (and the mirror): no rounding to model.
        check(allowed, dtype, (elements,), np.sum, torch.sum if torch else None, mode=EXACT, what=f"sum of {a}")


@PROPERTY
@given(intervals(), SEEDS)
def test_mean(a, seed):
    out = iv.mean(a)
    for dtype, elements in _reduced(a, seed):
        if _overflows(elements, dtype):
            continue
        largest = float(np.abs(elements[np.isfinite(elements)]).max(initial=0.0))
        for kind in (dtype, "float64"):  # float64: the same elements computed in float64
            slack = (elements.size + 2) * iv.EPS[kind] * largest + iv.TINY[kind]
            check(_tolerance(out, slack), kind, (elements,), np.mean, torch.mean if torch else None, mode=IN_DTYPE,
                  what=f"mean of {a}")


@PROPERTY
@given(intervals(), SEEDS)
def test_spread(a, seed):
    out = iv.spread(a)
    for dtype, elements in _reduced(a, seed):
        if _overflows(elements, dtype, power=2):
            continue
        n = elements.size
        largest = float(np.abs(elements[np.isfinite(elements)]).max(initial=0.0))
        for kind in (dtype, "float64"):  # float64: the same elements computed in float64
            var_slack = 16 * (n + 4) * iv.EPS[kind] * largest * largest + iv.TINY[kind]
            std_slack = math.sqrt(var_slack) + 4 * iv.EPS[kind] * out.hi
            # Each library's default: NumPy's population var/std, torch's sample var/std
            # (n - 1; of one element that is 0 / 0, not tested).
            sample = (lambda x: torch.var(x), lambda x: torch.std(x)) if torch and n > 1 else (None, None)
            check(_tolerance(out, var_slack), kind, (elements,), np.var, sample[0], mode=IN_DTYPE, what=f"var of {a}")
            check(_tolerance(out, std_slack), kind, (elements,), np.std, sample[1], mode=IN_DTYPE, what=f"std of {a}")


@PROPERTY
@given(intervals(), SEEDS)
def test_norm(a, seed):
    out = iv.norm(a)
    for dtype, elements in _reduced(a, seed):
        check(out, dtype, (elements,), np.linalg.norm, torch.linalg.vector_norm if torch else None, mode=EXACT,
              what=f"norm of {a}")


# -- rounding in a dtype


def _sum_in(dtype: str, x: float, y: float) -> tuple[float, float]:
    """x + y computed in ``dtype`` from x and y converted to it, and x converted."""
    if dtype == "bfloat16":
        left, right = torch.tensor(x, dtype=torch.bfloat16), torch.tensor(y, dtype=torch.bfloat16)
        return float(left + right), float(left)
    with np.errstate(over="ignore", invalid="ignore"):
        left, right = np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)
        return float(left + right), float(left)


BESIDE = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([1.0, 1.9, 0.5, 0.75, 3.0, 1e-3, 100.0, 1e4, 65504.0, 2.0 ** -14, 1e-30, 0.0]),
                   st.floats(-10, 10))


@st.composite
def eps_beside(draw):
    beside = draw(BESIDE)
    near_half_ulp = st.builds(
        lambda k, wobble, sign: sign * abs(beside) * 2.0 ** -k * (1 + wobble),
        st.integers(6, 56), st.sampled_from([0.0, 2.0 ** -20, -(2.0 ** -20), 0.1, -0.1, 0.5, -0.4]),
        st.sampled_from([1.0, -1.0]))
    eps = draw(st.one_of(near_half_ulp, st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e-8, 1e-10, 1e-45])))
    return eps, beside


@PROPERTY
@given(eps_beside())
def test_absorbed_is_the_real_rounding(pair):
    eps, beside = pair
    for dtype in DTYPES:
        total, converted = _sum_in(dtype, beside, eps)
        # A zero eps is no eps: absorbed() says False although beside + 0 is beside.
        expected = eps != 0 and total == converted
        assert iv.absorbed(eps, beside, dtype) == expected, (eps, beside, dtype, total, converted)


@PROPERTY
@given(st.one_of(st.floats(allow_nan=False), st.sampled_from([65504.0, 65519.0, 65520.0, 1e-8, 3e-8, 2.0 ** -25, 1e-46])))
def test_representable_is_the_real_conversion(value):
    for dtype in DTYPES:
        if dtype == "bfloat16":
            converted = float(torch.tensor(value, dtype=torch.bfloat16))
        else:
            with np.errstate(over="ignore"):
                converted = float(np.asarray(value, dtype=dtype))
        assert iv.representable(value, dtype) == (value == 0 or (converted != 0 and math.isfinite(converted))), (value, dtype)
        assert iv.rounded(value, dtype) == converted, (value, dtype, converted)


@pytest.mark.parametrize(
    "eps, beside, dtype, expected",
    [
        (1e-10, 1.0, "float32", True),
        (1e-7, 1.9, "float32", False),  # 1.9 + 1e-7 rounds up: above half 1.9's ulp (5.96e-8)
        (5e-8, 1.0, "float32", True),
        (-5e-8, 1.0, "float32", False),  # below 1 the ulp halves: 1 - 5e-8 is 0.99999994
        (1e-4, 1.0, "float16", True),
        (1e-3, 1.0, "float16", False),
        (1e-8, 0.0, "float16", True),  # 1e-8 is 0 in float16
        (1e-17, 1.0, "float64", True),
        (2.0 ** -53, 1.0, "float64", True),  # a tie rounds to the even 1.0
        (2.0 ** -52, 1.0, "float64", False),
        (0.0, 1.0, "float32", False),
    ],
)
def test_absorbed_examples(eps, beside, dtype, expected):
    assert iv.absorbed(eps, beside, dtype) is expected


def test_representable_examples():
    assert not iv.representable(1e-8, "float16")
    assert iv.representable(3e-8, "float16")  # rounds up to the smallest subnormal, 6e-8
    assert iv.representable(65519.0, "float16") and not iv.representable(65520.0, "float16")
    assert not iv.representable(1e-46, "float32") and iv.representable(1e-45, "float32")
    assert not iv.representable(1e39, "float32") and iv.representable(1e39, "float64")
    assert iv.representable(0.0, "float16")


# -- the dtype tables against NumPy and PyTorch

needs_mpmath = pytest.mark.skipif(mpmath is None, reason="mpmath computes the correctly rounded reference")


def _exps(dtype: str, x: float) -> dict[str, float]:
    """exp(x) in ``dtype``: NumPy's, PyTorch's, and the correctly rounded one."""
    found = {}
    if dtype in NUMPY_DTYPES:
        found["numpy"] = float(run_numpy(np.exp, dtype, np.array([x]))[0])
    if dtype in ALL_TORCH_DTYPES:
        found["torch"] = float(run_torch(torch.exp, dtype, np.array([x]))[0])
    with mpmath.workdps(60):
        found["rounded"] = float(to_dtype(np.array([float(mpmath.exp(mpmath.mpf(x)))]), dtype)[0])
    return found


def _sigmoids(dtype: str, x: float) -> dict[str, float]:
    """sigmoid(x) in ``dtype``: the textbook formula in NumPy, PyTorch's, the correctly rounded one."""
    found = {}
    if dtype in NUMPY_DTYPES:
        found["1 / (1 + exp(-x))"] = float(run_numpy(lambda v: 1 / (1 + np.exp(-v)), dtype, np.array([x]))[0])
    if dtype in ALL_TORCH_DTYPES:
        found["torch"] = float(run_torch(torch.sigmoid, dtype, np.array([x]))[0])
    with mpmath.workdps(60):
        exact = 1 / (1 + mpmath.exp(-mpmath.mpf(x)))
        found["rounded"] = float(to_dtype(np.array([float(exact)]), dtype)[0])
    return found


@needs_mpmath
@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_overflow_bound(dtype):
    largest = at_or_below(iv.EXP_OVERFLOW[dtype], dtype)
    assert all(math.isfinite(value) for value in _exps(dtype, largest).values()), _exps(dtype, largest)
    assert all(value == INF for value in _exps(dtype, next_up(largest, dtype)).values())


@needs_mpmath
@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_underflow_bound(dtype):
    smallest = at_or_above(iv.EXP_UNDERFLOW[dtype], dtype)
    positive = _exps(dtype, smallest)
    # torch's bfloat16 exp flushes its smallest subnormals to 0 (exp(-92.75) is 0): not all 3.
    assert positive["rounded"] > 0 and positive.get("numpy", 1.0) > 0, positive
    assert all(value == 0 for value in _exps(dtype, next_down(smallest, dtype)).values())


@needs_mpmath
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_one_bound(dtype):
    one = at_or_above(iv.SIGMOID_ONE[dtype], dtype)
    assert all(value == 1.0 for value in _sigmoids(dtype, one).values()), _sigmoids(dtype, one)
    # Just below, the correctly rounded sigmoid is below 1 (1 / (1 + exp(-x)) may already be 1).
    assert _sigmoids(dtype, next_down(one, dtype))["rounded"] < 1.0
    assert iv.sigmoid(Interval(one, INF), dtype) == Interval(1.0, 1.0)
    assert iv.sigmoid(iv.point(next_down(one, dtype)), dtype).lo < 1.0


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_eps_tiny_max_tables(dtype):
    info = np.finfo(dtype)
    assert (iv.EPS[dtype], iv.TINY[dtype], iv.MAX[dtype]) == (float(info.eps), float(info.smallest_subnormal),
                                                              float(info.max))


@pytest.mark.skipif(torch is None, reason="torch")
def test_bfloat16_tables():
    info = torch.finfo(torch.bfloat16)
    assert (iv.EPS["bfloat16"], iv.MAX["bfloat16"]) == (info.eps, info.max)
    assert iv.TINY["bfloat16"] == info.tiny * info.eps  # 7 fraction bits below the smallest normal


# -- examples


def test_exp_overflows_in_float32():
    assert iv.exp(Interval(0.0, 100.0), "float32").hi == INF
    assert iv.exp(Interval(0.0, 100.0), "float64").hi < INF
    assert iv.exp(Interval(100.0, 200.0), "float32") == Interval(INF, INF)


def test_exp_is_zero_below_the_smallest_normal_where_subnormals_flush():
    clipped = Interval(-100.0, 87.0)
    assert iv.exp(clipped, "float32").lo > 0  # exp(-100) = 3.8e-44, a subnormal PyTorch and NumPy keep
    assert iv.exp(clipped, "float32", flushes_subnormals=True).lo == 0.0
    assert iv.exp(Interval(-87.0, 87.0), "float32", flushes_subnormals=True).lo > 0  # 1.6e-38 is normal


def test_the_frameworks_said_to_flush_subnormals_do():
    tf = pytest.importorskip("tensorflow")
    torch = pytest.importorskip("torch")
    points = [-100.0, -88.0, -87.0]
    assert "tf" in iv.FLUSHES_SUBNORMALS and "torch" not in iv.FLUSHES_SUBNORMALS
    flushed = tf.exp(tf.constant(points, dtype=tf.float32)).numpy().tolist()
    kept = torch.exp(torch.tensor(points, dtype=torch.float32)).tolist()
    for point, by_tf, by_torch in zip(points, flushed, kept):
        assert (by_tf == 0.0) == (point < iv.flush_underflow("float32"))
        assert by_torch > 0.0


def test_log_of_relu_reaches_minus_inf():
    out = iv.log(iv.relu(iv.UNBOUNDED))
    assert (out.lo, out.hi, out.nan) == (-INF, INF, False)


def test_sigmoid_saturates_in_float32():
    assert iv.sigmoid(Interval(20.0, 30.0), "float32") == Interval(1.0, 1.0)
    assert iv.sigmoid(Interval(-200.0, -150.0), "float32") == Interval(0.0, 0.0)
    assert iv.sigmoid(Interval(0.0, 16.7), "float32").hi == 1.0  # 1 / (1 + exp(-16.7)) is 1 in float32


def test_division_by_an_interval_reaching_zero():
    assert iv.div(Interval(1.0, 2.0), Interval(0.0, 1.0)).unbounded
    assert not iv.div(Interval(1.0, 2.0), Interval(0.0, 1.0)).nan
    assert iv.div(Interval(0.0, 2.0), Interval(-1.0, 1.0)).nan  # 0 / 0
    assert iv.div(Interval(1.0, INF), Interval(0.0, INF)).nan  # inf / inf
    assert iv.div(Interval(1.0, 2.0), Interval(1.0, 2.0, nan=True)).nan


def test_nan_from_infinities():
    assert iv.add(Interval(-INF, 0.0), Interval(0.0, INF)).nan  # -inf + inf
    assert not iv.add(Interval(-INF, 0.0), Interval(-INF, 0.0)).nan
    assert iv.mul(Interval(0.0, 1.0), Interval(1.0, INF)).nan  # 0 * inf
    assert not iv.mul(Interval(1.0, 2.0), Interval(1.0, INF)).nan
    assert iv.total(iv.UNBOUNDED).nan and not iv.total(iv.NONNEGATIVE).nan
    assert iv.spread(iv.NONNEGATIVE).nan  # var([inf, 1]) is inf - inf


def test_rounding_to_one_and_zero():
    assert iv.tanh(iv.point(10.0), "float32").hi == 1.0  # float32 tanh(10) is 1
    assert iv.tanh(iv.point(10.0), "float64").hi < 1.0
    assert iv.softplus(iv.point(-200.0), "float32").lo == 0.0  # float32 log1p(exp(-200)) is 0
    assert iv.softplus(iv.point(-200.0), "float64").lo > 0.0
    assert iv.expm1(iv.point(-100.0), "float32").lo == -1.0


def test_power_of_huge_and_spread_of_narrow():
    assert iv.power(Interval(1e200, 1e200), 2) == Interval(INF, INF)  # Python's ** raises there
    assert iv.power(Interval(-1e200, 1.0), 3).lo == -INF
    assert iv.power(Interval(-INF, -1.0), 0.5).hi == INF  # pow(-inf, 0.5) is +inf
    assert iv.power(Interval(0.0, 1.0), -1) is None
    assert iv.spread(Interval(0.0, 0.1)).hi >= 0.1 / math.sqrt(2)  # a std, not only a var
