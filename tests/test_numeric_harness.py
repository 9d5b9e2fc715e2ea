"""The numeric harness itself: it passes the correct stable rewrites (and they repair what
the originals break), it rejects the wrong ones, and its reference is exact."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from numeric_harness import (
    DOMAINS,
    FORMATS,
    REFERENCE_API,
    FixRejected,
    HarnessError,
    clear_caches,
    reference,
    regime_inputs,
    verify_fix,
)

NOT_FP64 = ("float16", "bfloat16", "float32")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _rejected(original, fixed, **options) -> FixRejected:
    with pytest.raises(FixRejected) as caught:
        verify_fix(original, fixed, **options)
    return caught.value


# ---------------------------------------------------------------------------------------
# Correct stable rewrites pass, and repair elements where the original is wrong.

CORRECT = [
    ("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)", "torch", "real", None),
    ("torch.log(F.softmax(x))", "F.log_softmax(x, dim=-1)", "torch", "real", None),  # legacy dim of 2-D: 1
    ("np.log(scipy.special.softmax(x, axis=1))", "scipy.special.log_softmax(x, axis=1)", "numpy", "real", None),
    ("np.log(scipy.special.softmax(x))", "special.log_softmax(x)", "numpy", "real", None),  # axis=None: all
    ("np.log(np.sum(np.exp(x), axis=1))", "scipy.special.logsumexp(x, axis=1)", "numpy", "real", None),
    ("np.log(np.sum(np.exp(x), axis=1))", "logsumexp(x, axis=1)", "numpy", "real", None),
    ("x.exp().sum(-1).log()", "x.logsumexp(-1)", "torch", "real", None),
    ("torch.log(torch.sum(torch.exp(x)))", "torch.logsumexp(x.flatten(), 0)", "torch", "real", None),
    ("np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)", "special.softmax(x, axis=-1)", "numpy", "real", None),
    ("x.exp() / x.exp().sum(-1, keepdim=True)", "x.softmax(-1)", "torch", "real", None),
    ("torch.log(torch.sigmoid(x))", "torch.nn.functional.logsigmoid(x)", "torch", "real", None),
    ("np.log(1 - scipy.special.expit(x))", "scipy.special.log_expit(-x)", "numpy", "real", None),
    ("torch.log(1 - torch.sigmoid(x))", "F.logsigmoid(-x)", "torch", "real", None),
    ("torch.log(1 + x)", "torch.log1p(x)", "torch", "gt_minus_one", None),
    ("(1 + 2 * x).log()", "(2 * x).log1p()", "torch", "gt_minus_half", None),
    ("math.log(1 + x)", "math.log1p(x)", "math", "gt_minus_one", None),
    ("math.exp(x) - 1", "math.expm1(x)", "math", "real", None),
    ("np.exp(x) - 1", "np.expm1(x)", "numpy", "real", None),
    ("torch.exp(x) - 1", "torch.expm1(x)", "torch", "real", None),
    ("np.log(1 + np.exp(x))", "np.logaddexp(0, x)", "numpy", "real", None),
    ("torch.log(1 + torch.exp(x))", "torch.nn.functional.softplus(x)", "torch", "real", NOT_FP64),
    # frameworks that are skipped where they are not installed
    ("tf.math.log(tf.nn.softmax(x))", "tf.nn.log_softmax(x)", "tf", "real", None),
    ("tf.math.log(tf.reduce_sum(tf.exp(x), axis=1))", "tf.math.reduce_logsumexp(x, axis=1)", "tf", "real", None),
    ("jnp.log(jnp.sum(jnp.exp(x), axis=1))", "jax.nn.logsumexp(x, axis=1)", "jax", "real", None),
    ("jnp.log(1 + jnp.exp(x))", "jax.nn.softplus(x)", "jax", "real", None),
    ("keras.ops.log(keras.ops.softmax(x))", "keras.ops.log_softmax(x)", "keras", "real", None),
]


@pytest.mark.parametrize(("original", "fixed", "framework", "domain", "dtypes"), CORRECT)
def test_a_stable_rewrite_passes_and_repairs_the_original(original, fixed, framework, domain, dtypes):
    report = verify_fix(original, fixed, framework=framework, domain=domain, dtypes=dtypes)
    # The regimes do reach the hazard: somewhere the original is wrong and the fix right.
    assert report.repaired > 0


def test_two_inputs():
    report = verify_fix("np.log(np.exp(x) + np.exp(y))", "np.logaddexp(x, y)", framework="numpy", variables=("x", "y"))
    assert report.repaired > 0
    failed = _rejected("np.log(np.exp(x) + np.exp(y))", "np.logaddexp(x, x)", framework="numpy", variables=("x", "y"))
    assert "ordinary" in failed.report.failed_regimes


def test_extra_names_are_bound_to_the_real_function_and_to_its_reference():
    names = {"lse": "scipy.special.logsumexp", "naive": "numpy.log"}
    verify_fix("naive(np.sum(np.exp(x), axis=1))", "lse(x, axis=1)", framework="numpy", names=names)


# ---------------------------------------------------------------------------------------
# Leaving the formula as it is fails, where it breaks, and never as a "regression".

IDENTITY = [
    ("torch.log(torch.softmax(x, dim=1))", "torch", "real", {"large_positive", "large_negative", "mixed"}),
    ("np.log(scipy.special.softmax(x, axis=1))", "numpy", "real", {"large_positive", "mixed"}),
    ("torch.log(torch.sum(torch.exp(x), dim=1))", "torch", "real", {"large_positive", "large_negative", "mixed"}),
    ("np.log(np.sum(np.exp(x), axis=1))", "numpy", "real", {"large_positive", "mixed"}),
    ("torch.log(1 + x)", "torch", "gt_minus_one", {"tiny"}),
    ("np.log(1 + x)", "numpy", "gt_minus_one", {"tiny"}),
    ("math.log(1 + x)", "math", "gt_minus_one", {"tiny"}),
    ("torch.exp(x) - 1", "torch", "real", {"tiny"}),
    ("np.exp(x) - 1", "numpy", "real", {"tiny"}),
    ("math.exp(x) - 1", "math", "real", {"tiny"}),
    ("torch.log(1 + torch.exp(x))", "torch", "real", {"large_positive", "moderate"}),
    ("np.log(1 + np.exp(x))", "numpy", "real", {"large_positive", "large_negative"}),
    ("math.log(1 + math.exp(x))", "math", "real", {"large_positive", "large_negative"}),
]


@pytest.mark.parametrize(("original", "framework", "domain", "breaks_in"), IDENTITY)
def test_the_unstable_formula_itself_fails(original, framework, domain, breaks_in):
    report = _rejected(original, original, framework=framework, domain=domain).report
    assert breaks_in <= report.failed_regimes
    assert report.failure_kinds == {"not repaired"}  # it cannot be worse than itself


def test_the_report_shows_what_went_wrong():
    message = str(_rejected("torch.log(1 + x)", "torch.log(1 + x)", framework="torch", domain="gt_minus_one"))
    for text in ("original: torch.log(1 + x)", "tiny/float32", "x = [[", "reference=", "allowed=[", "not repaired"):
        assert text in message
    assert len(message.splitlines()) < 80


# ---------------------------------------------------------------------------------------
# Wrong rewrites fail: axis, default axis, shape, dtype, sign.


@pytest.mark.parametrize(
    ("original", "wrong", "framework"),
    [
        ("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=0)", "torch"),
        ("np.log(scipy.special.softmax(x, axis=1))", "scipy.special.log_softmax(x, axis=0)", "numpy"),
        ("np.log(scipy.special.softmax(x))", "scipy.special.log_softmax(x, axis=-1)", "numpy"),  # scipy: all
        ("torch.log(F.softmax(x))", "F.log_softmax(x, dim=0)", "torch"),  # legacy implicit dim is 1
        ("torch.exp(x) / torch.exp(x).sum(dim=0, keepdim=True)", "torch.softmax(x, dim=1)", "torch"),
    ],
)
def test_a_rewrite_on_the_wrong_axis_fails(original, wrong, framework):
    report = _rejected(original, wrong, framework=framework).report
    assert "ordinary" in report.failed_regimes
    assert "regression" in report.failure_kinds  # wrong where the original was right


@pytest.mark.parametrize(
    ("original", "wrong", "framework"),
    [
        ("torch.log(torch.exp(x).sum(-1, keepdim=True))", "torch.logsumexp(x, -1)", "torch"),
        ("np.log(np.sum(np.exp(x), axis=1, keepdims=True))", "scipy.special.logsumexp(x, axis=1)", "numpy"),
        ("np.log(np.sum(np.exp(x), axis=1))", "scipy.special.logsumexp(x, axis=0)", "numpy"),
        ("torch.log(torch.sum(torch.exp(x)))", "torch.logsumexp(x, 0)", "torch"),
    ],
)
def test_a_rewrite_that_changes_the_shape_fails(original, wrong, framework):
    assert _rejected(original, wrong, framework=framework).report.failure_kinds == {"shape"}


@pytest.mark.parametrize(
    ("original", "wrong", "framework"),
    [
        ("torch.log(1 + x)", "torch.log1p(x.double())", "torch"),
        ("np.log(1 + x)", "np.log1p(x.astype(np.float64))", "numpy"),
    ],
)
def test_a_rewrite_that_changes_the_dtype_fails(original, wrong, framework):
    report = _rejected(original, wrong, framework=framework, domain="gt_minus_one").report
    assert report.failure_kinds == {"dtype"}  # the values themselves are right
    assert "float64" not in report.failed_dtypes


@pytest.mark.parametrize(
    ("original", "wrong", "framework"),
    [
        ("torch.log(1 - torch.sigmoid(x))", "F.logsigmoid(x)", "torch"),
        ("np.log(1 - scipy.special.expit(x))", "scipy.special.log_expit(x)", "numpy"),
        ("torch.log(torch.sigmoid(x))", "F.logsigmoid(-x)", "torch"),
    ],
)
def test_a_rewrite_with_the_wrong_sign_fails(original, wrong, framework):
    report = _rejected(original, wrong, framework=framework).report
    assert {"ordinary", "moderate"} <= report.failed_regimes
    assert "zeros" not in report.failed_regimes  # log σ(0) = log σ(-0): the sign is invisible there


def test_a_rewrite_that_raises_fails():
    report = _rejected("torch.log(1 + x)", "torch.log1p(x, dim=1)", framework="torch", domain="gt_minus_one").report
    assert report.failure_kinds == {"error"}


# ---------------------------------------------------------------------------------------
# PyTorch's softplus returns x itself above 20: exact to float32, not to float64.


def test_torch_softplus_is_exact_below_float64_only():
    pytest.importorskip("torch")
    verify_fix("torch.log(1 + torch.exp(x))", "F.softplus(x)", framework="torch", dtypes=NOT_FP64)
    report = _rejected("torch.log(1 + torch.exp(x))", "F.softplus(x)", framework="torch", dtypes=("float64",)).report
    assert report.failed_regimes == {"moderate"}
    assert report.failure_kinds == {"regression"}
    for failure in report.failures:
        assert 20 < failure.inputs["x"] < 37  # log(1 + exp(x)) - x = exp(-x) ≥ 1e-16·x
        assert failure.fixed == failure.inputs["x"]
        assert failure.reference - failure.fixed == pytest.approx(math.exp(-failure.inputs["x"]), rel=1e-3)


# ---------------------------------------------------------------------------------------
# Python's math: one float at a time, OverflowError as inf.


def test_math_overflow_error_counts_as_inf_where_the_exact_value_is_beyond_float64():
    verify_fix("math.exp(x)", "math.exp(x)", framework="math", regimes=("large_positive",))
    report = _rejected("math.exp(x)", "math.exp(min(x, 700.0))", framework="math", regimes=("large_positive",)).report
    assert {failure.reference for failure in report.failures} == {math.inf}


# ---------------------------------------------------------------------------------------
# The reference: exact, with the APIs' default axes, and loud where it cannot judge.


def test_the_reference_is_exact_where_float_arithmetic_cancels():
    # 1 - sigmoid(1000) = exp(-1000)/(1 + exp(-1000)) needs ~1500 bits to be told from 0
    assert reference("np.log(1 - scipy.special.expit(x))", framework="numpy", x=1000.0) == -1000.0
    assert reference("torch.log(1 + x)", framework="torch", x=1e-30) == 1e-30
    assert reference("math.exp(x) - 1", framework="math", x=-1e-300) == -1e-300
    assert reference("torch.log(torch.softmax(x, dim=0))", framework="torch", x=[0.0, -50.0])[0] == -math.exp(-50)


def test_the_reference_keeps_the_apis_default_axes():
    x = np.arange(6.0).reshape(2, 3)
    row_sums = np.ones(2)
    assert reference("scipy.special.softmax(x)", framework="numpy", x=x).sum() == pytest.approx(1.0)
    assert reference("np.sum(x)", framework="numpy", x=x) == 15.0
    assert reference("torch.sum(x)", framework="torch", x=x) == 15.0
    assert reference("F.softmax(x)", framework="torch", x=x).sum(axis=1) == pytest.approx(row_sums)  # dim=1
    assert reference("F.softmax(x)", framework="torch", x=x[0]).sum() == pytest.approx(1.0)  # 1-D: dim=0
    assert reference("jax.nn.softmax(x)", framework="jax", x=x).sum(axis=1) == pytest.approx(row_sums)
    assert reference("tf.nn.softmax(x)", framework="tf", x=x).sum(axis=1) == pytest.approx(row_sums)
    assert reference("keras.ops.logsumexp(x)", framework="keras", x=x).shape == ()
    assert reference("torch.logsumexp(x, 1, keepdim=True)", framework="torch", x=x).shape == (2, 1)
    assert reference("x.sum(-1, keepdims=True)", framework="numpy", x=x).shape == (2, 1)


def test_the_reference_knows_where_a_formula_is_undefined():
    values = reference("np.log(x)", framework="numpy", x=[-1.0, 0.0, 1.0])
    assert np.isnan(values[0]) and values[1] == -math.inf and values[2] == 0.0


def test_a_name_without_reference_is_a_harness_error_not_a_failed_fix():
    with pytest.raises(HarnessError, match="torch.special.erfcx") as caught:
        verify_fix("torch.special.erfcx(x)", "torch.special.erfcx(x)", framework="torch")
    assert not isinstance(caught.value, AssertionError)


@pytest.fixture
def forgetful_reference():
    clear_caches()
    yield
    clear_caches()


def test_a_shim_that_models_the_api_wrongly_is_caught(monkeypatch, forgetful_reference):
    # as if np.sum reduced along the last axis by default: every verdict would be wrong
    wrong_sum = REFERENCE_API["numpy.sum"]
    monkeypatch.setitem(REFERENCE_API, "numpy.sum", lambda a, axis=-1, **kwargs: wrong_sum(a, axis, **kwargs))
    with pytest.raises(HarnessError, match="models the API wrongly"):
        verify_fix("np.log(np.sum(np.exp(x)))", "scipy.special.logsumexp(x)", framework="numpy")


# ---------------------------------------------------------------------------------------
# Inputs: exactly representable, inside the domain, beyond the overflow thresholds.


def test_inputs_are_exactly_what_the_dtype_holds():
    report = verify_fix("np.log1p(x)", "np.log1p(x)", framework="numpy", domain="gt_minus_one")
    for block in report.blocks:
        values = block.inputs["x"]
        assert np.array_equal(values.astype(block.dtype).astype(np.float64), values)
        assert values.min() * (1 + 4 * FORMATS[block.dtype].eps) > -1  # the backward-error box too


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@pytest.mark.parametrize("dtype", sorted(FORMATS))
def test_inputs_and_their_backward_error_box_stay_inside_the_domain(domain, dtype):
    fmt, bounds = FORMATS[dtype], DOMAINS[domain]
    for values in regime_inputs(dtype=dtype, domain=domain).values():
        held = fmt.round(values["x"])
        box_ends = np.stack([held * (1 - 2 * fmt.eps), held * (1 + 2 * fmt.eps)])
        assert bounds.lower is None or (box_ends > bounds.lower).all()
        assert bounds.upper is None or (box_ends < bounds.upper).all()


@pytest.mark.parametrize(
    ("original", "fixed", "domain", "breaks_in"),
    [
        ("np.log(1 - x)", "np.log1p(-x)", "lt_one", "tiny"),
        ("np.log(x * x)", "2 * np.log(x)", "positive", "large_positive"),
        ("np.log(x / (1 - x))", "scipy.special.logit(x)", "unit_interval", None),
    ],
)
def test_bounded_domains(original, fixed, domain, breaks_in):
    # (scipy's logit computes float16 in float32, hence float32 and float64 only)
    report = verify_fix(original, fixed, framework="numpy", domain=domain, dtypes=("float32", "float64"))
    assert report.checked == report.blocks[0].elements * len(report.blocks)
    if breaks_in:
        assert breaks_in in _rejected(original, original, framework="numpy", domain=domain).report.failed_regimes


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_the_regimes_reach_the_hazards(dtype):
    fmt = FORMATS[dtype]
    regimes = regime_inputs(dtype=dtype)
    assert regimes["large_positive"]["x"].max() > fmt.exp_overflow
    assert regimes["large_negative"]["x"].min() < -fmt.exp_overflow
    assert (np.abs(regimes["mixed"]["x"]) > fmt.exp_overflow).all(axis=1).sum() == 0  # ordinary company …
    assert (np.abs(regimes["mixed"]["x"]) > fmt.exp_overflow).any(axis=1).all()  # … for a huge element
    tiny = np.abs(fmt.round(regimes["tiny"]["x"]))
    assert 0 < tiny.max() <= fmt.eps / 4  # 1 ± x rounds to 1
    assert set(regimes) >= {"ordinary", "zeros", "moderate"}
    assert "large_negative" not in regime_inputs(dtype=dtype, domain=DOMAINS["gt_minus_one"])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_the_float_format_model_matches_numpy(dtype):
    spread = np.random.default_rng(1).standard_normal(200) * 10.0 ** np.arange(-20, 20, 0.2)
    values = np.concatenate([spread, [0.0, 1e-310, 7e4, -1e39, 1e300]])
    with np.errstate(over="ignore"):
        assert np.array_equal(FORMATS[dtype].round(values), values.astype(dtype).astype(np.float64))
        held = values.astype(dtype)
    finite = np.isfinite(held)
    assert np.array_equal(FORMATS[dtype].ulp(held[finite]), np.spacing(np.abs(held[finite])).astype(np.float64))


@pytest.mark.parametrize(("framework", "module"), [("tf", "tensorflow"), ("jax", "jax"), ("keras", "keras")])
def test_a_missing_framework_is_skipped(framework, module):
    if _installed(module):
        pytest.skip(f"{module} is installed: CORRECT runs it")
    with pytest.raises(pytest.skip.Exception, match=module):
        verify_fix("x", "x", framework=framework)
