"""The execution harness must reject what is wrong, or its passes prove nothing."""

from __future__ import annotations

import pytest
from numeric_harness import verify_fix

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("original", "framework", "domain"),
    [
        ("torch.log(torch.softmax(x, dim=1))", "torch", "real"),
        ("np.log(np.sum(np.exp(x), axis=1))", "numpy", "real"),
        ("torch.log(1 + x)", "torch", "gt_minus_one"),
        ("np.exp(x) - 1", "numpy", "real"),
        ("math.log(1 + x)", "math", "gt_minus_one"),
        ("np.log(1 + np.exp(x))", "numpy", "real"),
        ("np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)", "numpy", "real"),
    ],
)
def test_leaving_the_unstable_formula_fails(original, framework, domain):
    """An identity "fix" keeps the hazard: overflow, underflow, or every digit lost."""
    with pytest.raises(AssertionError):
        verify_fix(original, original, framework=framework, domain=domain)


def test_the_hazard_is_visible_in_the_inputs():
    verdict = verify_fix("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)", framework="torch")
    assert verdict.checked > 0 and verdict.original_wrong > 0


@pytest.mark.parametrize(
    ("original", "wrong_fix", "framework"),
    [
        ("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=0)", "torch"),  # wrong axis
        ("np.log(np.sum(np.exp(x), axis=1, keepdims=True))", "scipy.special.logsumexp(x, axis=1)", "numpy"),  # shape
        ("torch.log(1 - torch.sigmoid(x))", "torch.nn.functional.logsigmoid(x)", "torch"),  # wrong sign
        ("np.log(scipy.special.softmax(x))", "scipy.special.log_softmax(x, axis=-1)", "numpy"),  # axis None is all
        ("torch.log(torch.sum(torch.exp(x)))", "torch.logsumexp(x, 0)", "torch"),  # not the whole array
        ("torch.exp(x) - 1", "torch.expm1(x).double()", "torch"),  # dtype
    ],
)
def test_a_wrong_rewrite_fails(original, wrong_fix, framework):
    with pytest.raises(AssertionError):
        verify_fix(original, wrong_fix, framework=framework)


def test_torch_softplus_threshold_shows_in_float64_only():
    verify_fix("torch.log(1 + torch.exp(x))", "F.softplus(x)", framework="torch", dtypes=("float16", "float32"))
    with pytest.raises(AssertionError, match="moderate/float64"):
        verify_fix("torch.log(1 + torch.exp(x))", "F.softplus(x)", framework="torch", dtypes=("float64",))
