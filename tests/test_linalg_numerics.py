"""The STB6xx fixes, executed: each rule's example fix against an exact (mpmath) solution,
on well-conditioned, ill-conditioned and over/underflowing matrices in float32/float64.

The fixed code is the codemod's output (``test_rules.py`` checks that it equals
``example.fixed``). A fix must be accurate to what a backward-stable algorithm achieves
(a few n·cond·eps), keep the original's dtype and shape, and where the original overflows
(``det``) or loses digits (the normal equations) it must be the one that is right.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from example_runner import array, cases, dtype_name, skip_missing

from stablelint.rules.base import IMPORTS_BY_FRAMEWORK
from stablelint.rules.linalg import InverseTimes, LogOfDet, NormalEquations

EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}
RNG_SEED = 7


def _dtypes(framework: str) -> tuple[str, ...]:
    return ("float32",) if framework == "jax" else ("float32", "float64")  # jax: x64 off by default


def _run(code: str, framework: str, matrix: np.ndarray, dtype: str):
    """Execute an example with ``x`` the matrix in ``dtype``: ``y`` as float64, and its dtype."""
    namespace: dict = {}
    exec(IMPORTS_BY_FRAMEWORK[framework], namespace)  # noqa: S102 - our own examples
    namespace["x"] = array(framework, matrix, dtype)
    with np.errstate(all="ignore"):
        exec(code, namespace)  # noqa: S102
    return np.asarray(namespace["y"], dtype=np.float64), dtype_name(namespace["y"])


# -- inputs


def _triangular_times_permutation(n: int, scale: float, rng, odd: bool = False) -> np.ndarray:
    """A matrix whose determinant is known exactly: a permuted upper-triangular one."""
    upper = np.triu(rng.uniform(-0.1, 0.1, (n, n)) * scale, 1) + np.diag(scale * rng.uniform(1.0, 2.0, n))
    order = np.arange(n)
    order[[0, 1]] = order[[1, 0]] if odd else order[[0, 1]]
    return upper[order]


def _hilbert(n: int) -> np.ndarray:
    return 1.0 / (np.arange(n)[:, None] + np.arange(n)[None, :] + 1.0)


def _mp(matrix: np.ndarray) -> mpmath.matrix:
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in matrix])


# -- STB601


def _log_abs_det(matrix: np.ndarray) -> float:
    """log|det| of a matrix built by ``_triangular_times_permutation``: the rows put back
    in order make it upper triangular, so it is the sum of the logs of its diagonal."""
    upper = matrix.copy()
    if np.any(np.tril(upper, -1)):
        upper[[0, 1]] = upper[[1, 0]]
    assert not np.any(np.tril(upper, -1))
    with mpmath.workdps(40):
        return float(mpmath.fsum(mpmath.log(abs(mpmath.mpf(float(d)))) for d in np.diag(upper)))


def _det_regimes(dtype: str, rng) -> dict[str, np.ndarray]:
    big_n = 20 if dtype == "float32" else 60  # 1e4**20 = 1e80 > float32's max; 1e8**60 > float64's
    scale = 1e4 if dtype == "float32" else 1e8
    return {
        "ordinary": _triangular_times_permutation(6, 1.0, rng),
        "overflowing": _triangular_times_permutation(big_n, scale, rng),
        "underflowing": _triangular_times_permutation(big_n, 1 / scale, rng),
    }


@pytest.mark.parametrize("example", cases(LogOfDet))
def test_log_det_fix_is_exact_where_det_overflows(example):
    skip_missing(example.framework)
    rng = np.random.default_rng(RNG_SEED)
    for dtype in _dtypes(example.framework):
        for regime, matrix in _det_regimes(dtype, rng).items():
            matrix = matrix.astype(dtype).astype(np.float64)  # the values the framework sees
            reference = _log_abs_det(matrix)
            original, original_dtype = _run(example.code, example.framework, matrix, dtype)
            fixed, fixed_dtype = _run(example.fixed, example.framework, matrix, dtype)
            assert fixed_dtype == original_dtype and fixed.shape == original.shape
            n = matrix.shape[0]
            tolerance = 16 * n * EPS[dtype] * max(1.0, abs(reference))
            assert abs(float(fixed) - reference) <= tolerance, (dtype, regime, float(fixed), reference)
            if regime == "ordinary":
                assert abs(float(original) - reference) <= tolerance  # the fix agrees where the original works
            else:
                assert not np.isfinite(original), (dtype, regime, "the original should over/underflow here")


@pytest.mark.parametrize("example", cases(LogOfDet, unsafe=False))
def test_safe_log_det_fix_keeps_nan_for_negative_determinants(example):
    """Safe means equal wherever the original is finite; torch.logdet also keeps its NaN."""
    skip_missing(example.framework)
    matrix = _triangular_times_permutation(5, 1.0, np.random.default_rng(RNG_SEED), odd=True)  # det < 0
    original, _ = _run(example.code, example.framework, matrix, "float64")
    fixed, _ = _run(example.fixed, example.framework, matrix, "float64")
    if np.isfinite(original):  # log(abs(det)): finite, and the fix is equal
        assert abs(float(fixed) - float(original)) <= 1e-12 * max(1.0, abs(float(original)))
    else:
        assert np.isnan(original) and np.isnan(fixed)


@pytest.mark.parametrize("example", cases(LogOfDet, unsafe=True))
def test_unsafe_log_det_fix_differs_only_at_negative_determinants(example):
    """Why slogdet(A)[1] is marked unsafe: at det < 0 it is finite where log(det) is nan."""
    skip_missing(example.framework)
    matrix = _triangular_times_permutation(5, 1.0, np.random.default_rng(RNG_SEED), odd=True)
    dtype = _dtypes(example.framework)[-1]
    original, _ = _run(example.code, example.framework, matrix, dtype)
    fixed, _ = _run(example.fixed, example.framework, matrix, dtype)
    assert np.isnan(original) and np.isfinite(fixed)


# -- STB602 and STB603


def _relative_error(value: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(value - reference) / np.linalg.norm(reference))


def _solve_exact(matrix, rhs, vector: bool | None = None) -> np.ndarray:
    """The exact solution (80 digits) of matrix @ x = rhs, column by column; ``matrix``
    and ``rhs`` may be mpmath matrices already (then ``vector`` says whether the solution
    is a vector or a matrix: an mpmath matrix does not say)."""
    with mpmath.workdps(80):
        exact = matrix if isinstance(matrix, mpmath.matrix) else _mp(matrix)
        right = rhs if isinstance(rhs, mpmath.matrix) else _mp(np.asarray(rhs).reshape(len(rhs), -1))
        columns = []
        for column in range(right.cols):
            solution = mpmath.lu_solve(exact, right.column(column))
            columns.append([float(solution[i]) for i in range(solution.rows)])
        result = np.array(columns, dtype=np.float64).T
    if vector is None:
        vector = np.ndim(rhs) == 1
    return result[:, 0] if vector else result


def _rhs_of(example, matrix: np.ndarray) -> np.ndarray:
    """The right-hand side the example multiplies by: ``x[:, 0]``, ``x[:, :1]``, ``x[0]`` or ``x``."""
    text = example.fixed
    if "x[:, :1]" in text:
        return matrix[:, :1]
    if "x[:, 0]" in text:
        return matrix[:, 0]
    if "x[0]" in text:
        return matrix[0]
    return matrix


@pytest.mark.parametrize("example", cases(InverseTimes))
def test_solve_fix_is_backward_stable_on_ill_conditioned_systems(example):
    skip_missing(example.framework)
    rng = np.random.default_rng(RNG_SEED)
    for dtype in _dtypes(example.framework):
        regimes = {
            "ordinary": rng.standard_normal((6, 6)) + 6 * np.eye(6),
            "ill-conditioned": _hilbert(5 if dtype == "float32" else 9),
            "scaled": (rng.standard_normal((6, 6)) + 6 * np.eye(6)) * (1e18 if dtype == "float32" else 1e150),
        }
        for regime, matrix in regimes.items():
            matrix = matrix.astype(dtype).astype(np.float64)
            reference = _solve_exact(matrix, _rhs_of(example, matrix))
            original, original_dtype = _run(example.code, example.framework, matrix, dtype)
            fixed, fixed_dtype = _run(example.fixed, example.framework, matrix, dtype)
            assert fixed_dtype == original_dtype and fixed.shape == original.shape == reference.shape
            bound = 8 * matrix.shape[0] * np.linalg.cond(matrix) * EPS[dtype]
            error = _relative_error(fixed, reference)
            assert error <= bound, (dtype, regime, error, bound)
            assert error <= 4 * max(_relative_error(original, reference), EPS[dtype]), (dtype, regime)


def _collinear(m: int, n: int, spread: float, rng) -> np.ndarray:
    """Columns that are nearly parallel: cond(X) grows like 1/spread."""
    base = rng.standard_normal((m, 1))
    return base + spread * rng.standard_normal((m, n))


@pytest.mark.parametrize("example", cases(NormalEquations))
def test_lstsq_fix_keeps_the_digits_the_normal_equations_lose(example):
    skip_missing(example.framework)
    rng = np.random.default_rng(RNG_SEED)
    for dtype in _dtypes(example.framework):
        spread = 1e-2 if dtype == "float32" else 1e-6
        regimes = {"ordinary": rng.standard_normal((8, 4)), "ill-conditioned": _collinear(8, 4, spread, rng)}
        for regime, matrix in regimes.items():
            matrix = matrix.astype(dtype).astype(np.float64)
            rhs = _rhs_of(example, matrix)
            # y is a column of X (or X itself): the exact least-squares solution has residual 0.
            with mpmath.workdps(80):
                exact_x = _mp(matrix)
                exact_y = _mp(rhs.reshape(rhs.shape[0], -1))
                reference = _solve_exact(exact_x.T * exact_x, exact_x.T * exact_y, vector=rhs.ndim == 1)
            original, original_dtype = _run(example.code, example.framework, matrix, dtype)
            fixed, fixed_dtype = _run(example.fixed, example.framework, matrix, dtype)
            assert fixed_dtype == original_dtype and fixed.shape == original.shape
            condition = np.linalg.cond(matrix)
            error = _relative_error(fixed, reference)
            assert error <= 16 * matrix.shape[0] * condition * EPS[dtype], (dtype, regime, error)
            if regime == "ill-conditioned" and "inv" in example.code:
                # (With y = X[:, 0], solve(X.T X, X.T y) happens to be exact: its right-hand side is
                # a column of its matrix, computed the same way. The inverse has no such luck.)
                # cond(X)**2 * eps: the normal equations are off by orders of magnitude more.
                assert _relative_error(original, reference) > 100 * error, (dtype, regime)
