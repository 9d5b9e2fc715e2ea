"""What the STB2xx fixes do where they are not the original's value, executed.

test_fix_numerics.py proves the value-preserving fixes (STB201, STB205) against the exact
value of the original. Here: their float16 runs in NumPy/JAX, where the fix squares too
(no regression, not a repair); STB202, whose fix moves the eps inside the square root
(a different value by design: the gradient at zero variance becomes finite); and
STB203, whose ``F.normalize`` equals ``x / norm`` except where the norm is below its eps.
"""

from __future__ import annotations

import numpy as np
import pytest
from numeric_harness import FixRejected, verify_fix
from test_fix_numerics import SQUARES_IN_FLOAT16

from stablelint.rules import RULES_BY_CODE

FLOAT16_CASES = [
    pytest.param(code, example, id=f"{code}-{example.framework}-{example.code}")
    for code, framework in sorted(SQUARES_IN_FLOAT16)
    for example in RULES_BY_CODE[code].invalid
    if example.framework == framework and example.fixed is not None
]


@pytest.mark.parametrize(("code", "example"), FLOAT16_CASES)
def test_float16_fix_is_never_worse_than_the_original(code, example):
    try:
        verify_fix(example.code, example.fixed, framework=example.framework, dtypes=("float16",))
    except FixRejected as rejected:
        kinds = {failure.kind for failure in rejected.failures}
        assert kinds <= {"not repaired"}, rejected.report.describe_failures()


def _torch():
    return pytest.importorskip("torch")


def _evaluate(expression: str, namespace: dict):
    return eval(expression, namespace)  # the rule's own example, not user input


STD_PLUS_EPS = [example for example in RULES_BY_CODE["STB202"].invalid if example.framework in ("torch", "jax")]


@pytest.mark.parametrize("example", STD_PLUS_EPS, ids=lambda example: f"{example.framework}-{example.code}")
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_eps_inside_the_root_has_a_finite_gradient_at_zero_variance(example, dtype):
    """Constant rows (zero variance): the original's gradient is NaN, the fix's finite;
    elsewhere the two differ by at most sqrt(eps), the price of moving the eps."""
    rows = np.array([[3.0] * 5, [3.0] * 5, [3.0, 1.0, -2.0, 4.0, 0.5]])  # constant rows and a constant column
    eps = 1e-5 if "1e-5" in example.code else 1e-6
    if example.framework == "torch":
        torch = _torch()
        import torch.nn.functional as F

        def gradient(expression):
            x = torch.tensor(rows, dtype=getattr(torch, dtype), requires_grad=True)
            value = _evaluate(expression, {"torch": torch, "F": F, "x": x})
            (value.sum()).backward()
            return value.detach().double().numpy(), x.grad.double().numpy()
    else:
        jax = pytest.importorskip("jax")
        jnp = jax.numpy
        if dtype == "float64" and not jax.config.jax_enable_x64:
            pytest.skip("JAX computes in float32 unless jax_enable_x64 is set")

        def gradient(expression):
            def total(x):
                return _evaluate(expression, {"jnp": jnp, "jax": jax, "x": x}).sum()

            x = jnp.asarray(rows, dtype=dtype)
            value = _evaluate(expression, {"jnp": jnp, "jax": jax, "x": x})
            return np.asarray(value, dtype=np.float64), np.asarray(jax.grad(total)(x), dtype=np.float64)

    original_value, original_gradient = gradient(example.code)
    fixed_value, fixed_gradient = gradient(example.fixed)
    assert np.isnan(original_gradient).any(), "the original's gradient is finite: nothing to fix"
    assert np.isfinite(fixed_gradient).all()
    assert np.all(np.abs(fixed_value - original_value) <= np.sqrt(eps) + eps + 1e-2 * (dtype == "float16"))


NORMALIZE = [example for example in RULES_BY_CODE["STB203"].invalid if example.fixed is not None]
NONZERO_REGIMES = ["ordinary", "large_positive", "large_negative", "mixed", "moderate"]


@pytest.mark.parametrize("example", NORMALIZE, ids=lambda example: example.code)
def test_normalize_is_the_division_wherever_the_norm_is_not_tiny(example):
    verify_fix(example.code, example.fixed, framework="torch", regimes=NONZERO_REGIMES)


@pytest.mark.parametrize("example", NORMALIZE, ids=lambda example: example.code)
def test_normalize_maps_a_zero_row_to_zero_where_the_division_gives_nan(example):
    torch = _torch()
    import torch.nn.functional as F

    x = torch.tensor([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    original = _evaluate(example.code, {"torch": torch, "F": F, "x": x})
    fixed = _evaluate(example.fixed, {"torch": torch, "F": F, "x": x})
    assert torch.isnan(original[0]).all() and (fixed[0] == 0).all()
    assert torch.allclose(original[1], fixed[1])
