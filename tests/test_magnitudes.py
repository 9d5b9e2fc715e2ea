"""In float64 (NumPy, Python floats) exp over- and underflows past 709.78 and -745.13: only
values that accumulate logs reach there (``analysis.magnitudes``); in float32 any logit does."""

from __future__ import annotations

import numpy as np
import pytest

from stablelint.analysis.magnitudes import FLOAT64_EVERYDAY, is_log_scale_name
from stablelint.engine import check_source

HEADER = "import numpy as np\nimport scipy.special\nimport torch\n\n\n"


def codes(body: str) -> list[str]:
    return [d.code for d in check_source(HEADER + body, "example.py", project=False)]


@pytest.mark.parametrize("name", ["log_p", "logp", "log_probs", "log_lik", "loglik", "ll", "log_w",
                                  "log_weights", "log_alpha", "energy", "nll", "log_likelihood", "logpdf",
                                  "total_log_prob", "log_z", "log_odds"])
def test_names_of_log_probabilities(name):
    assert is_log_scale_name(name)


@pytest.mark.parametrize("name", ["x", "logits", "log_var", "logvar", "log_std", "log_sigma", "log_scale",
                                  "scores", "z", "h", "activation", "help", "blog"])
def test_names_of_everyday_values(name):
    assert not is_log_scale_name(name)


# Each hazard: the failing formula, then the code that computes its operand in float64.
FLOAT64_HAZARDS = {
    "naive logsumexp of log-probabilities": "def f(log_p):\n    return np.log(np.sum(np.exp(log_p)))\n",
    "a log-likelihood summed over data": (
        "def f(p):\n    ll = np.sum(np.log(p), axis=1)\n    return np.exp(ll) / np.sum(np.exp(ll))\n"),
    "log-probabilities summed by a matrix product (naive Bayes)": (
        "def f(X, theta):\n    s = X @ np.log(theta)\n    return np.log(np.sum(np.exp(s), axis=1))\n"),
    "lgamma": "def f(a):\n    return np.log(1 + np.exp(scipy.special.gammaln(a)))\n",
    "a distribution's log-density": "def f(d, x):\n    return np.log(1 + np.exp(d.logpdf(x)))\n",
    "an attribute named as a log-likelihood": (
        "class M:\n    def f(self):\n        return np.log(np.sum(np.exp(self.log_lik)))\n"),
}
FLOAT64_EVERYDAY_VALUES = {
    "softplus of an activation": "def f(x):\n    return np.log(1 + np.exp(x))\n",
    "softmax of a linear model's scores": (
        "def f(X, w):\n    s = X @ w\n    return np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)\n"),
    "log-sigmoid of a feature": "def f(z):\n    return np.log(scipy.special.expit(z))\n",
    "a written-out sigmoid's gradient form": "def f(t):\n    e = np.exp(t)\n    return e / (1 + e)\n",
    "logistic density": "def f(t):\n    return np.exp(t) / (1 + np.exp(t)) ** 2\n",
    "a written-out tanh": "def f(x):\n    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))\n",
    "logaddexp of scores": "def f(a, b):\n    return np.log(np.exp(a) + np.exp(b))\n",
}


@pytest.mark.parametrize("name", FLOAT64_HAZARDS)
def test_float64_values_that_accumulate_logs_are_reported(name):
    assert codes(FLOAT64_HAZARDS[name]) != []


@pytest.mark.parametrize("name", FLOAT64_EVERYDAY_VALUES)
def test_float64_everyday_values_stay_inside_exps_limits(name):
    assert codes(FLOAT64_EVERYDAY_VALUES[name]) == []


@pytest.mark.parametrize("name", FLOAT64_EVERYDAY_VALUES)
def test_the_same_values_in_float32_are_reported(name):
    # The same code on float32 arrays: 88.72 is an everyday logit.
    body = FLOAT64_EVERYDAY_VALUES[name]
    function, rest = body.split(":\n", 1)
    arguments = function[function.index("(") + 1:function.index(")")].split(", ")
    casts = "".join(f"    {a} = {a}.astype(np.float32)\n" for a in arguments if a in ("x", "z", "t", "a", "b", "s", "w", "X"))
    assert codes(f"{function}:\n{casts}{rest}") != []


def test_torch_values_keep_float32s_limits():
    assert codes("def f(x):\n    return torch.log(1 + torch.exp(x))\n") == ["STB108"]


def test_a_proven_range_past_the_everyday_bound_is_reported():
    # The code itself establishes that the exponent reaches 1000: no plausibility needed.
    assert codes("def f():\n    x = np.linspace(0, 1000, 11)\n    return np.log(1 + np.exp(x))\n") == ["STB108"]


def test_the_bound_is_where_the_witnesses_are_real():
    # The float64 witnesses lie past FLOAT64_EVERYDAY, and below it exp is finite in float64.
    assert np.isfinite(np.exp(np.float64(FLOAT64_EVERYDAY)))
    assert np.exp(np.float64(-FLOAT64_EVERYDAY)) > 0
    with np.errstate(over="ignore", under="ignore"):
        assert np.isinf(np.exp(np.float64(710.0))) and np.exp(np.float64(-800.0)) == 0
