"""Fixes that keep working code working, on every backend and for every type.

Each case runs the original program and the one ``--fix`` (or ``--unsafe-fixes``) writes,
in the real library: the fixed one must return the same type, dtype and shape, the same
value wherever the original is finite (or what the rule promises instead: ``isnan`` for a
NaN comparison, a finite mask), and run where the original runs, traced too
(``tf.function``, ``jax.jit``). Keras 3 fixes run on the JAX and torch backends in
subprocesses (``tests/keras_backends.py``); the TensorFlow backend is this process's.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from keras_backends import run_on_backend

from stablelint.engine import check_source, fix_source
from stablelint.format import fix_message
from stablelint.rules import ALL_RULES
from stablelint.rules.base import IMPORTS_BY_FRAMEWORK


def _fixed(source: str, unsafe: bool = False) -> str:
    return fix_source(source, "m.py", unsafe=unsafe).source


def _load(source: str, **extra) -> dict:
    namespace = dict(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, "m.py", "exec"), namespace)  # noqa: S102 - our own test programs
    return namespace


# -- STB103: a pandas Series / xarray DataArray keeps its type, or the fix is not applied


@pytest.mark.parametrize("library", ["pandas", "xarray"])
def test_softmax_of_a_labeled_array_keeps_its_type_or_is_not_applied(library):
    module = pytest.importorskip(library)
    make = "pd.Series(values)" if library == "pandas" else "xr.DataArray(values)"
    unwrap = "to_numpy()" if library == "pandas" else "values"
    alias = "pd" if library == "pandas" else "xr"
    source = (
        f"import numpy as np\nimport scipy.special\nimport {library} as {alias}\n\n\n"
        f"def weights(values):\n    log_w = {make}\n    w = np.exp(log_w) / np.sum(np.exp(log_w))\n    return w.{unwrap}\n"
    )
    values = np.array([0.5, -1.0, 2.0])
    assert _fixed(source) == source, "a safe fix changed a labeled array's softmax"
    unsafe = _fixed(source, unsafe=True)
    assert "softmax" in unsafe
    [finding] = [d for d in check_source(source, "m.py") if d.code == "STB103"]
    assert finding.fix.safety == "unsafe" and "loses its type" in fix_message(finding)
    expected = _load(source)["weights"](values)
    with pytest.raises(AttributeError):  # what the unsafe fix does, and why it is unsafe
        _load(unsafe)["weights"](values)
    assert isinstance(getattr(module, "Series", getattr(module, "DataArray", None)), type)
    np.testing.assert_allclose(expected, np.exp(values) / np.exp(values).sum())


# -- STB113: the type and dtype of log(exp(x))


def test_log_of_exp_of_an_ndarray_stays_a_tensor_in_tensorflow():
    tf = pytest.importorskip("tensorflow")
    source = "import numpy as np\nimport tensorflow as tf\n\n\ndef f(x):\n    return tf.math.log(tf.exp(np.asarray(x)))\n"
    fixed = _fixed(source)
    assert fixed != source
    x = np.array([[0.5, -2.0], [3.0, 1.0]])  # (np.asarray of a traced tensor fails in both: eager only)
    before, after = _load(source)["f"](x), _load(fixed)["f"](x)
    assert tf.is_tensor(after) and type(after) is type(before)
    assert after.dtype == before.dtype and after.shape == before.shape
    np.testing.assert_allclose(after.numpy(), before.numpy(), rtol=1e-12)


def test_log_of_exp_of_an_integer_cast_is_not_rewritten_to_an_integer():
    jnp = pytest.importorskip("jax.numpy")
    source = "import jax.numpy as jnp\n\n\ndef f(n):\n    return jnp.log(jnp.exp(n.astype(jnp.int32)))\n"
    assert _fixed(source, unsafe=True) == source
    assert [d.code for d in check_source(source, "m.py")] == ["STB113"]  # reported, no fix
    assert _load(source)["f"](jnp.arange(3.0)).dtype == jnp.float32


# -- STB503: the library's own isnan, traced


_NAN_PROGRAMS = {
    "tf": ("import numpy as np\nimport tensorflow as tf\n\n\n@tf.function\ndef f(x):\n"
           "    return tf.cast(x == np.nan, tf.float32)\n", "tf.math.is_nan(x)"),
    "jax": ("import jax\nimport jax.numpy as jnp\nimport numpy as np\n\n\n@jax.jit\ndef f(x):\n"
            "    return jnp.where(x != np.nan, x, 0.0)\n", "~jnp.isnan(x)"),
    "keras": ("import keras\nimport numpy as np\n\n\ndef f(x):\n    return keras.ops.cast(x == np.nan, 'float32')\n",
              "keras.ops.isnan(x)"),
}


@pytest.mark.parametrize("library", sorted(_NAN_PROGRAMS))
def test_nan_comparison_in_traced_code_gets_the_library_isnan(library):
    pytest.importorskip({"tf": "tensorflow", "jax": "jax", "keras": "keras"}[library])
    source, isnan = _NAN_PROGRAMS[library]
    fixed = _fixed(source, unsafe=True)
    assert isnan in fixed and not re.search(r"(?<![\w.])np\.isnan", fixed)
    values = np.array([0.0, np.nan, 1.5, -np.inf], dtype=np.float32)
    before, after = _load(source)["f"](values), _load(fixed)["f"](values)
    before, after = np.asarray(before), np.asarray(after)
    assert before.dtype == after.dtype and before.shape == after.shape
    if library == "jax":  # where(x != nan, x, 0) keeps x; the fixed one zeroes the NaN
        np.testing.assert_array_equal(after, np.where(np.isnan(values), 0.0, values))
    else:
        np.testing.assert_array_equal(after, np.isnan(values).astype(np.float32))
    if library == "keras":
        tf = pytest.importorskip("tensorflow")
        np.testing.assert_array_equal(np.asarray(tf.function(_load(fixed)["f"])(values)), after)


# -- STB404 and STB502: Keras 3 fixes use keras.ops only


def test_keras_fixes_import_no_tensorflow():
    pytest.importorskip("keras")
    sources = [
        "import keras\n\n\ndef f(x):\n    return keras.ops.sqrt(keras.ops.sigmoid(x) - 0.25)\n",
        "import keras\n\n\ndef f(x):\n    s = keras.ops.cast(x, 'float16')\n    return keras.ops.where(s > 0, s, -1e9)\n",
    ]
    for source in sources:
        fixed = _fixed(source, unsafe=True)
        assert fixed != source and "tensorflow" not in fixed and "dtype.min" not in fixed, fixed


# -- STB602: solve where batch shapes agree, a broadcasting solve elsewhere


def test_inverse_times_a_batch_keeps_broadcasting_in_tensorflow():
    tf = pytest.importorskip("tensorflow")
    source = "import tensorflow as tf\n\n\ndef f(a, b):\n    return tf.linalg.inv(a) @ b\n"
    fixed = _fixed(source, unsafe=True)
    assert fixed != source
    rng = np.random.default_rng(0)
    shapes = [((2, 3, 3), (3, 2)), ((3, 3), (2, 3, 2)), ((3, 3), (3, 2))]
    for matrix_shape, rhs_shape in shapes:
        a = tf.constant(rng.standard_normal(matrix_shape) + 4 * np.eye(3))
        b = tf.constant(rng.standard_normal(rhs_shape))
        for trace in (False, True):
            original, result = _load(source)["f"], _load(fixed)["f"]
            if trace:
                original, result = tf.function(original), tf.function(result)
            before, after = original(a, b), result(a, b)
            assert after.shape == before.shape and after.dtype == before.dtype
            np.testing.assert_allclose(after.numpy(), before.numpy(), rtol=1e-9, atol=1e-12)


def test_stb602_page_tensorflow_example_runs():
    tf = pytest.importorskip("tensorflow")
    [example] = [e for rule in ALL_RULES if rule.code == "STB602" for e in rule.invalid if e.framework == "tf"]
    x = tf.constant(np.random.default_rng(1).standard_normal((4, 4)) + 4 * np.eye(4))
    namespace = _load(IMPORTS_BY_FRAMEWORK["tf"], x=x)
    exec(example.code, namespace)  # noqa: S102
    original = namespace["y"]
    exec(example.fixed, namespace)  # noqa: S102
    np.testing.assert_allclose(namespace["y"].numpy(), original.numpy(), rtol=1e-9, atol=1e-12)


# -- STB111 (and the others): a definition of the stable function is not rewritten to call it


def test_the_definition_of_a_stable_primitive_is_left_alone():
    jax = pytest.importorskip("jax")
    source = (
        "import jax.numpy as jnp\nfrom jax import lax\n\nLOWERINGS = {\n    lax.logistic_p: lambda a: 1 / (1 + jnp.exp(-a)),\n}\n\n\n"
        "def sigmoid(x):\n    return 1 / (1 + jnp.exp(-x))\n\n\ndef log1pexp(x):\n    return jnp.log(1 + jnp.exp(x))\n\n\n"
        "def score(x):\n    return 1 / (1 + jnp.exp(-x))\n"
    )
    fixed = _fixed(source, unsafe=True)
    for definition in ("lax.logistic_p: lambda a: 1 / (1 + jnp.exp(-a)),", "def sigmoid(x):\n    return 1 / (1 + jnp.exp(-x))",
                       "def log1pexp(x):\n    return jnp.log(1 + jnp.exp(x))"):
        assert definition in fixed
    assert "def score(x):\n    return jax.nn.sigmoid(x)" in fixed  # an ordinary function still gets its fix
    namespace = _load(fixed)
    np.testing.assert_allclose(namespace["score"](jax.numpy.array([0.3])), jax.nn.sigmoid(0.3), rtol=1e-6)


# -- STB102: the mean form in float16


def test_mean_form_is_not_applied_safely_where_the_code_may_compute_in_float16():
    pytest.importorskip("jax")
    half = "import jax.numpy as jnp\n\n\ndef f(x):\n    x = x.astype(jnp.float16)\n    return jnp.log(jnp.mean(jnp.exp(x), axis=0))\n"
    assert _fixed(half) == half
    [finding] = [d for d in check_source(half, "m.py") if d.code == "STB102"]
    assert finding.fix.safety == "unsafe" and "float16" in fix_message(finding)
    plain = "import jax.numpy as jnp\n\n\ndef f(x):\n    return jnp.log(jnp.mean(jnp.exp(x), axis=0))\n"
    assert "logsumexp" in _fixed(plain)


# -- SciPy: an optional binding is reused; a module without SciPy gets no silent hard import


def test_an_optional_scipy_binding_is_reused_and_the_fix_stays_unsafe():
    scipy_special = pytest.importorskip("scipy.special")
    source = (
        "import numpy as np\nfrom helpers import try_import\n\nspecial = try_import('scipy.special')\n\n\n"
        "def f(log_p):\n    return np.log(np.sum(np.exp(log_p)))\n"
    )
    assert _fixed(source) == source
    fixed = _fixed(source, unsafe=True)
    assert "special.logsumexp(log_p)" in fixed and "import scipy" not in fixed
    body = fixed.replace("from helpers import try_import\n", "")
    namespace = _load(body, try_import=lambda name: scipy_special)
    x = np.array([1000.0, 999.0])
    assert math.isclose(namespace["f"](x), 1000.0 + math.log1p(math.exp(-1.0)), rel_tol=1e-12)


def test_a_module_without_scipy_is_told_about_the_hard_import():
    source = "import numpy as np\n\n\ndef f(log_p):\n    return np.log(np.sum(np.exp(log_p)))\n"
    assert _fixed(source) == source
    [finding] = check_source(source, "m.py")
    assert finding.fix.safety == "unsafe" and "hard import of scipy" in fix_message(finding)


# -- Keras 3 on the JAX and torch backends, eager and traced

KERAS_EXAMPLES = [
    (rule, example) for rule in ALL_RULES for example in rule.invalid
    if example.framework == "keras" and example.fixed is not None
]
# What the fix promises instead of the original's value.
CHANGES_THE_VALUE = {"STB404", "STB502", "STB503"}


def _program(code: str, variables: tuple[str, ...], inputs: list) -> dict:
    several = "\n" in code
    return {
        "code": code if several else f"_result = {code}",
        "output": "y" if several else "_result",
        "variables": list(variables),
        "imports": IMPORTS_BY_FRAMEWORK["keras"] + "import numpy as np\n",
        "inputs": inputs,
        "dtype": "float32",
    }


def _inputs(example) -> list:
    rng = np.random.default_rng(5)
    domains = example.domain if isinstance(example.domain, dict) else {}
    values = []
    for name in example.variables:
        if domains.get(name) == "unit_interval":
            values.append(rng.dirichlet(np.ones(4), 3).tolist())
        else:
            values.append((rng.standard_normal((3, 4)) * 2).tolist())
    if any(rule.code == "STB503" for rule, e in KERAS_EXAMPLES if e is example):
        values[0][0][:2] = [float("nan"), 1.0]
    return values


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_fixes_run_on_every_backend(backend):
    pytest.importorskip("keras")
    pytest.importorskip(backend)
    programs = []
    for _, example in KERAS_EXAMPLES:
        inputs = _inputs(example)
        programs += [_program(example.code, example.variables, inputs), _program(example.fixed, example.variables, inputs)]
    results = run_on_backend(backend, programs)
    problems = []
    checked = 0
    for index, (rule, example) in enumerate(KERAS_EXAMPLES):
        before, after = results[2 * index], results[2 * index + 1]
        for mode, original in before.items():
            fixed = after.get(mode)
            if "error" in original:
                continue  # the original does not run here: the fix owes nothing
            checked += 1
            if fixed is None or "error" in fixed:
                problems.append(f"{rule.code} {mode}: {example.fixed!r} -> {fixed}")
                continue
            for key in ("type", "dtype", "shape"):
                if fixed[key] != original[key]:
                    problems.append(f"{rule.code} {mode}: {key} {original[key]} became {fixed[key]}")
            old, new = np.array(original["values"], dtype=float), np.array(fixed["values"], dtype=float)
            if old.shape != new.shape:
                continue
            if rule.code == "STB503":
                ok = np.array_equal(new, np.isnan(np.array(_inputs(example)[0])).astype(float))
            elif rule.code in CHANGES_THE_VALUE:
                finite = ~np.isnan(old)
                ok = np.all(np.isfinite(new)) if rule.code == "STB502" else np.allclose(new[finite], old[finite])
            else:
                finite = np.isfinite(old)
                ok = np.allclose(new[finite], old[finite], rtol=2e-3, atol=1e-5)
            if not ok:
                problems.append(f"{rule.code} {mode}: values differ: {old} vs {new}")
    assert not problems, "\n".join(problems)
    assert checked >= len(KERAS_EXAMPLES), "the originals should run on this backend"
