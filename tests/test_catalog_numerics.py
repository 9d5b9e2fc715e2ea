"""What the fixes of STB117 (tanh-squash log-det) and STB120 (gamma ratio) do, executed.

Neither stable form matches the original to 2 ulps everywhere, so test_fix_numerics.py leaves
them out: ``2 * (log(2) - u - softplus(-2u))`` is exact in *absolute* terms (its terms are the
size of log 2, while the value near u = 0 is about -u²), and ``exp(lgamma(a) - lgamma(b))``
rounds like the original does (to the rounding of lgamma's large values). Here each fix, run in
its framework, is held to that bound against the exact (mpmath) value, and must be finite
where the original overflows or rounds to log(0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numeric_harness import reference

from stablelint.rules import RULES_BY_CODE

EPS = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}


def _run(framework: str, expression: str, dtype: str, **inputs):
    if framework == "numpy":
        import scipy.special

        namespace = {"np": np, "scipy": scipy, "math": math}
        arrays = {name: np.asarray(values, dtype=dtype) for name, values in inputs.items()}
        with np.errstate(all="ignore"):
            return np.asarray(eval(expression, {**namespace, **arrays}), dtype=np.float64)  # noqa: S307
    if framework == "torch":
        torch = pytest.importorskip("torch")
        import torch.nn.functional as F

        arrays = {name: torch.tensor(values, dtype=getattr(torch, dtype)) for name, values in inputs.items()}
        result = eval(expression, {"torch": torch, "F": F, "math": math, **arrays})  # noqa: S307
        assert result.dtype == getattr(torch, dtype)
        return result.double().numpy()
    if framework == "tf":
        tf = pytest.importorskip("tensorflow")
        arrays = {name: tf.constant(values, dtype=dtype) for name, values in inputs.items()}
        result = eval(expression, {"tf": tf, "math": math, **arrays})  # noqa: S307
        assert result.dtype.name == dtype
        return np.asarray(result.numpy(), dtype=np.float64)
    if framework == "jax":
        jax = pytest.importorskip("jax")
        import jax.numpy as jnp

        arrays = {name: jnp.asarray(values, dtype=dtype) for name, values in inputs.items()}
        result = eval(expression, {"jax": jax, "jnp": jnp, "math": math, **arrays})  # noqa: S307
        assert str(result.dtype) == dtype
        return np.asarray(result, dtype=np.float64)
    raise AssertionError(framework)


def _examples(code: str):
    return [
        pytest.param(example, id=f"{example.framework}-{example.code}")
        for example in RULES_BY_CODE[code].invalid
        if example.fixed is not None
    ]


def _float64_caveats(framework: str, dtype: str) -> None:
    if dtype != "float64":
        return
    if framework == "jax":
        pytest.skip("JAX computes in float32 unless jax_enable_x64 is set")
    if framework == "torch":
        # F.softplus returns x itself above threshold=20 (2e-9 off in float64): why the fix is unsafe.
        pytest.skip("PyTorch's softplus threshold is exact in float32 only")


# u from 0 through the saturation of tanh in float32 (9) and float16 (4.5), both signs.
U = np.concatenate([-np.geomspace(1e-3, 60, 40), np.geomspace(1e-3, 60, 40)])


@pytest.mark.parametrize("example", _examples("STB117"))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tanh_squash_fix_is_exact_in_absolute_terms_and_finite_where_tanh_saturates(example, dtype):
    _float64_caveats(example.framework, dtype)
    u = np.asarray(U, dtype=dtype).astype(np.float64)
    exact = reference("np.log(1 - np.tanh(x) ** 2)", framework="numpy", x=u)
    fixed = _run(example.framework, example.fixed, dtype, x=u)
    original = _run(example.framework, example.code, dtype, x=u)
    assert np.all(np.isfinite(fixed))
    # Absolute error: a few ulps of log 2 and of 2|u| (the terms the stable form adds).
    bound = 8 * EPS[dtype] * (math.log(2) + 2 * np.abs(u))
    assert np.all(np.abs(fixed - exact) <= bound), np.max(np.abs(fixed - exact) / bound)
    # Where tanh rounds to ±1 the original is log(0) = -inf (or pinned at log(eps)): far off.
    saturated = np.abs(u) > 10 if dtype == "float32" else np.abs(u) > 19
    assert np.all(np.abs(original[saturated] - exact[saturated]) > 1), "the original was already right there"


@pytest.mark.parametrize("example", _examples("STB120"))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_ratio_fix_rounds_like_the_original_and_survives_its_overflow(example, dtype):
    if dtype == "float64" and example.framework == "jax":
        pytest.skip("JAX computes in float32 unless jax_enable_x64 is set")
    rng = np.random.default_rng(0)
    a = np.asarray(rng.uniform(0.5, 30.0, 64), dtype=dtype).astype(np.float64)
    b = np.asarray(rng.uniform(0.5, 30.0, 64), dtype=dtype).astype(np.float64)
    exact = reference("np.exp(scipy.special.gammaln(a) - scipy.special.gammaln(b))", framework="numpy", a=a, b=b)
    original = _run(example.framework, example.code, dtype, a=a, b=b)
    fixed = _run(example.framework, example.fixed, dtype, a=a, b=b)
    # Both round lgamma's values (up to |lgamma(30)| = 71) before the exp: the relative error
    # of either is a few eps times those magnitudes; the fix's is within the same bound.
    scale = 4 * EPS[dtype] * (2 + np.abs([math.lgamma(x) for x in a]) + np.abs([math.lgamma(x) for x in b]))
    assert np.all(np.abs(original / exact - 1) <= scale), "the bound is not the original's own accuracy"
    assert np.all(np.abs(fixed / exact - 1) <= scale)
    # Past the overflow of Γ (35 in float32, 171 in float64) the original is inf/inf = nan.
    big = 40.0 if dtype == "float32" else 180.0
    a, b = np.array([big + 1.0, big + 5.0]), np.array([big, big + 4.0])
    exact = reference("np.exp(scipy.special.gammaln(a) - scipy.special.gammaln(b))", framework="numpy", a=a, b=b)
    assert not np.any(np.isfinite(_run(example.framework, example.code, dtype, a=a, b=b)))
    fixed = _run(example.framework, example.fixed, dtype, a=a, b=b)
    assert np.allclose(fixed, exact, rtol=1e-3 if dtype == "float32" else 1e-9)
