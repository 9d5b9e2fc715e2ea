"""Proof of a fix by execution.

``verify_fix(original, fixed, framework=...)`` evaluates both expressions (written with
the usual aliases: ``np``, ``scipy``, ``special``, ``math``, ``torch``, ``F``, ``tf``,
``keras``, ``jax``, ``jnp``; the input is ``x``) on real arrays of the framework, in
float16, float32 and float64, over ordinary and extreme inputs, and compares both with
an exact reference: the *original* expression evaluated once more with every framework
replaced by an mpmath shim (1000 digits, no overflow), at the very same dtype-rounded
inputs. The fixed expression must match the reference everywhere the reference is
representable, keep the original's dtype and shape, and so agree with the original
wherever the original is accurate and stay finite where it overflowed or lost its digits.

Tolerance, per element: ``16 * eps(dtype) * (|reference| + max|x|)``. The ``|reference|``
term is relative accuracy (a few roundings); the ``max|x|`` term is the absolute error any
stable formula makes when it cancels inputs of that size (``x - logsumexp(x)`` with
``x`` near 1000 in float16 is exact only to about ``eps * 1000``). With tiny inputs the
second term is tiny too, so losing every digit of ``log(1 + 1e-20)`` is caught.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field

import mpmath
import numpy as np
import pytest

mpmath.mp.dps = 1000  # 1 - sigmoid(2000) is 1e-869: the cancellation needs the digits
DTYPES = ("float16", "float32", "float64")
TOLERANCE_ULPS = 16
SHAPE = (3, 5)

# -------------------------------------------------------------- inputs


def _regimes(domain: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    ordinary = rng.standard_normal(SHAPE) * 3
    # where float16 (11.1), float32 (88.7) overflow exp and PyTorch's softplus switches to x (20)
    moderate = rng.uniform(5, 45, SHAPE) * rng.choice([-1, 1], SHAPE)
    tiny = rng.uniform(1e-30, 1e-8, SHAPE) * rng.choice([-1, 1], SHAPE)
    large = rng.uniform(50, 1000, SHAPE)
    mixed = ordinary.copy()
    mixed[:, 0] = 800.0  # one huge logit per row: the classic softmax overflow
    if domain == "real":
        return {
            "ordinary": ordinary, "moderate": moderate, "tiny": tiny, "zeros": np.zeros(SHAPE), "large": large,
            "large-negative": -large, "mixed-rows": mixed,
        }
    lower = {"gt_minus_one": -1.0, "gt_minus_half": -0.5}[domain]
    return {
        "ordinary": rng.uniform(lower * 0.9, 5, SHAPE), "moderate": np.abs(moderate), "tiny": tiny,
        "zeros": np.zeros(SHAPE),
        "large": large, "near-lower-bound": lower * rng.uniform(0.9, 0.999, SHAPE),
    }


# -------------------------------------------------------------- the exact reference


class MpArray:
    """A numpy object array of mpmath numbers, with the operators and Tensor methods the
    rules' formulas use."""

    __array_priority__ = 1000

    def __init__(self, data):
        self.data = np.asarray(data, dtype=object)

    @staticmethod
    def of(values: np.ndarray) -> "MpArray":
        return MpArray(np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(values))

    def _binary(self, other, operation):
        other = other.data if isinstance(other, MpArray) else mpmath.mpf(other)
        return MpArray(operation(self.data, other))

    def __add__(self, other): return self._binary(other, lambda a, b: a + b)
    def __radd__(self, other): return self._binary(other, lambda a, b: b + a)
    def __sub__(self, other): return self._binary(other, lambda a, b: a - b)
    def __rsub__(self, other): return self._binary(other, lambda a, b: b - a)
    def __mul__(self, other): return self._binary(other, lambda a, b: a * b)
    def __rmul__(self, other): return self._binary(other, lambda a, b: b * a)
    def __truediv__(self, other): return self._binary(other, lambda a, b: a / b)
    def __rtruediv__(self, other): return self._binary(other, lambda a, b: b / a)
    def __pow__(self, other): return self._binary(other, lambda a, b: a ** b)
    def __neg__(self): return MpArray(-self.data)

    @property
    def shape(self):
        return self.data.shape

    def flatten(self):
        return MpArray(self.data.reshape(-1))

    def __getattr__(self, name):
        function = _FUNCTIONS.get(name)
        if function is None:
            raise AttributeError(f"the mpmath reference has no Tensor method {name!r}")
        return lambda *args, **kwargs: function("torch", self, *args, **kwargs)


def _elementwise(function):
    def apply(framework, value, *args, **kwargs):
        if isinstance(value, MpArray):
            return MpArray(np.vectorize(function, otypes=[object])(value.data))
        return function(mpmath.mpf(value) if not isinstance(value, mpmath.mpf) else value)
    return apply


def _axis_and_keep(framework, args, kwargs, default_axis):
    axis = kwargs.pop("dim", kwargs.pop("axis", args[0] if args else default_axis))
    keep_index = 3 if framework in ("numpy", "jax") else 1  # np.sum(a, axis, dtype, out, keepdims)
    keep = kwargs.pop("keepdim", kwargs.pop("keepdims", args[keep_index] if len(args) > keep_index else False))
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keep)


def _sum(framework, value, *args, **kwargs):
    axis, keep = _axis_and_keep(framework, args, kwargs, None)
    return MpArray(np.sum(value.data, axis=axis, keepdims=keep))


def _logsumexp(framework, value, *args, **kwargs):
    axis, keep = _axis_and_keep(framework, args, kwargs, None)
    exps = np.vectorize(mpmath.exp, otypes=[object])(value.data)
    return MpArray(np.vectorize(mpmath.log, otypes=[object])(np.sum(exps, axis=axis, keepdims=keep)))


def _softmax_axis(framework, value, args, kwargs):
    default = None if framework == "numpy" else (1 if framework == "torch" and value.data.ndim == 2 else -1)
    axis, _ = _axis_and_keep(framework, args, kwargs, default)
    return axis


def _softmax(framework, value, *args, **kwargs):
    axis = _softmax_axis(framework, value, args, kwargs)
    exps = np.vectorize(mpmath.exp, otypes=[object])(value.data)
    return MpArray(exps / np.sum(exps, axis=axis, keepdims=True))


def _log_softmax(framework, value, *args, **kwargs):
    axis = _softmax_axis(framework, value, args, kwargs)
    return value - _logsumexp(framework, value, axis=axis, keepdims=True)


def _logaddexp(framework, first, second):
    first = first if isinstance(first, MpArray) else MpArray(np.full(second.shape, mpmath.mpf(first)))
    second = second if isinstance(second, MpArray) else MpArray(np.full(first.shape, mpmath.mpf(second)))
    return MpArray(np.vectorize(lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)), otypes=[object])(
        first.data, second.data))


_sigmoid = lambda v: 1 / (1 + mpmath.exp(-v))  # noqa: E731
_FUNCTIONS = {
    "log": _elementwise(mpmath.log), "exp": _elementwise(mpmath.exp), "log1p": _elementwise(mpmath.log1p),
    "expm1": _elementwise(mpmath.expm1), "abs": _elementwise(abs), "fabs": _elementwise(abs),
    "sigmoid": _elementwise(_sigmoid), "expit": _elementwise(_sigmoid),
    "logsigmoid": _elementwise(lambda v: mpmath.log(_sigmoid(v))),
    "log_sigmoid": _elementwise(lambda v: mpmath.log(_sigmoid(v))),
    "log_expit": _elementwise(lambda v: mpmath.log(_sigmoid(v))),
    "softplus": _elementwise(lambda v: mpmath.log1p(mpmath.exp(v))),
    "sum": _sum, "reduce_sum": _sum, "logsumexp": _logsumexp, "reduce_logsumexp": _logsumexp,
    "softmax": _softmax, "log_softmax": _log_softmax, "logaddexp": _logaddexp,
    "ones_like": lambda framework, value: MpArray(np.full(value.shape, mpmath.mpf(1), dtype=object)),
    "flatten": lambda framework, value: value.flatten(),
}


class MpModule:
    """Stands in for every module path (``torch.nn.functional``, ``tf.math``, ``scipy.special``)."""

    def __init__(self, framework: str):
        self._framework = framework

    def __getattr__(self, name):
        function = _FUNCTIONS.get(name)
        if function is None:
            return self  # a submodule: torch.nn, tf.math, jax.nn ...
        return lambda *args, **kwargs: function(self._framework, *args, **kwargs)


def reference_namespace(framework: str) -> dict:
    module = MpModule(framework)
    names = ("np", "scipy", "special", "math", "torch", "F", "tf", "keras", "jax", "jnp")
    return {name: module for name in names}


# -------------------------------------------------------------- the frameworks


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def framework_namespace(framework: str) -> dict:
    namespace = {"np": np, "math": math}
    scipy_special = _import("scipy.special")
    if scipy_special is not None:
        namespace.update(scipy=importlib.import_module("scipy"), special=scipy_special)
    if framework == "torch":
        torch = pytest.importorskip("torch")
        namespace.update(torch=torch, F=torch.nn.functional)
    elif framework == "tf":
        namespace["tf"] = pytest.importorskip("tensorflow")
    elif framework == "keras":
        namespace["keras"] = pytest.importorskip("keras")
    elif framework == "jax":
        jax = pytest.importorskip("jax")
        importlib.import_module("jax.nn")
        namespace.update(jax=jax, jnp=importlib.import_module("jax.numpy"))
    return namespace


def _to_framework(framework: str, values: np.ndarray, namespace: dict):
    if framework == "torch":
        return namespace["torch"].from_numpy(values.copy())
    if framework == "tf":
        return namespace["tf"].constant(values)
    if framework == "keras":
        return namespace["keras"].ops.convert_to_tensor(values)
    if framework == "jax":
        return namespace["jnp"].asarray(values)
    return values


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def evaluate(expression: str, framework: str, values: np.ndarray, namespace: dict) -> np.ndarray:
    """The expression on real data; ``math`` expressions run element by element."""
    with np.errstate(all="ignore"):
        if framework == "math":
            def scalar(value):
                try:
                    return eval(expression, namespace, {"x": float(value)})
                except OverflowError:  # math's way of saying inf (exp, expm1)
                    return math.inf
                except ValueError:  # math's way of saying nan (log of a negative)
                    return math.nan
            return np.vectorize(scalar, otypes=[np.float64])(values)
        return _to_numpy(eval(expression, namespace, {"x": _to_framework(framework, values, namespace)}))


def reference(expression: str, framework: str, values: np.ndarray, dtype: str) -> np.ndarray:
    """The exact value of ``expression`` at ``values``, rounded once to ``dtype``."""
    namespace = reference_namespace(framework)
    if framework == "math":
        exact = np.vectorize(lambda value: eval(expression, namespace, {"x": mpmath.mpf(float(value))}),
                             otypes=[object])(values)
    else:
        exact = eval(expression, namespace, {"x": MpArray.of(values)}).data

    def to_float(number):
        try:
            return float(number)
        except (TypeError, OverflowError):  # complex (outside the domain) or beyond float64
            return math.nan if isinstance(number, mpmath.mpc) else math.copysign(math.inf, number)

    with np.errstate(over="ignore"):
        return np.vectorize(to_float, otypes=[np.float64])(exact).astype(dtype)


# -------------------------------------------------------------- the verdict


@dataclass
class Verdict:
    checked: int = 0  # elements compared
    original_wrong: int = 0  # where the original misses the reference (the hazard, shown)
    failures: list[str] = field(default_factory=list)


def _within(values: np.ndarray, exact: np.ndarray, dtype: str, scale: float) -> np.ndarray:
    eps = float(np.finfo(dtype).eps)
    values = values.astype(np.float64)
    exact64 = exact.astype(np.float64)
    both_nan = np.isnan(values) & np.isnan(exact64)
    same_infinity = np.isinf(exact64) & (values == exact64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(values - exact64) <= TOLERANCE_ULPS * eps * (np.abs(exact64) + scale)
    return both_nan | same_infinity | (np.isfinite(exact64) & close)


def verify_fix(
    original: str,
    fixed: str,
    *,
    framework: str,
    domain: str = "real",
    dtypes: tuple[str, ...] | None = None,
    seed: int = 20261123,
) -> Verdict:
    """Raise AssertionError (with the worst cases) unless ``fixed`` is right everywhere."""
    namespace = framework_namespace(framework)
    dtypes = ("float64",) if framework == "math" else (dtypes or DTYPES)
    verdict = Verdict()
    for dtype in dtypes:
        for regime, raw in _regimes(domain, np.random.default_rng(seed)).items():
            with np.errstate(over="ignore", under="ignore"):
                values = raw.astype(dtype)  # the inputs exactly as the dtype holds them
            exact = np.atleast_1d(reference(original, framework, values.astype(np.float64), dtype))
            try:
                before = np.atleast_1d(evaluate(original, framework, values, namespace))
            except Exception:  # the original may fail where the fix works: it is the reference that counts
                before = np.full(exact.shape, np.nan)
            try:
                after = np.atleast_1d(evaluate(fixed, framework, values, namespace))
            except Exception as error:
                verdict.failures.append(f"{regime}/{dtype}: the fix raised {type(error).__name__}: {error}")
                continue
            if framework != "math" and (after.shape, after.dtype) != (before.shape, before.dtype):
                verdict.failures.append(
                    f"{regime}/{dtype}: the fix returns {after.dtype}{after.shape}, "
                    f"the original {before.dtype}{before.shape}"
                )
                continue
            scale = float(np.max(np.abs(values.astype(np.float64))))
            fixed_ok = _within(after, exact, dtype, scale)
            original_ok = _within(before, exact, dtype, scale)
            verdict.checked += int(fixed_ok.size)
            verdict.original_wrong += int((~original_ok).sum())
            for index in zip(*np.nonzero(~fixed_ok)):
                verdict.failures.append(
                    f"{regime}/{dtype} at {tuple(int(i) for i in index)}: x={values[index]!r} "
                    f"original={before[index]!r} "
                    f"fixed={after[index]!r} exact={exact[index]!r}"
                )
    if verdict.failures:
        shown = "\n  ".join(verdict.failures[:12])
        raise AssertionError(f"{fixed!r} is not a faithful fix of {original!r} ({len(verdict.failures)} failures):\n  {shown}")
    return verdict
