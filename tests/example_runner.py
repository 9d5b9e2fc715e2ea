"""Running a rule's own examples with the real framework (the STB5xx/STB6xx numeric tests)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

MODULES = {"torch": "torch", "numpy": "numpy", "jax": "jax", "tf": "tensorflow", "keras": "keras", "math": "math"}


def cases(rule, unsafe: bool | None = None) -> list:
    """The rule's invalid examples that have a fix, as pytest parameters."""
    return [
        pytest.param(example, id=f"{example.framework}-{example.code}")
        for example in rule.invalid
        if example.fixed is not None and (unsafe is None or example.unsafe == unsafe)
    ]


def skip_missing(framework: str) -> None:
    if importlib.util.find_spec(MODULES[framework]) is None:
        pytest.skip(f"{framework} is not installed")


def array(framework: str, values: np.ndarray, dtype: str):
    """``values`` as the framework's array in ``dtype``."""
    if framework == "torch":
        import torch

        return torch.tensor(values, dtype=getattr(torch, dtype))
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values, dtype=dtype)
    if framework == "tf":
        import tensorflow as tf

        return tf.constant(values, dtype=getattr(tf, dtype))
    if framework == "keras":
        import keras

        return keras.ops.convert_to_tensor(values, dtype=dtype)
    return values.astype(dtype)


def traced(code: str, framework: str, imports: str):
    """The example as a function of ``x`` returning its ``y``, traced the way its library
    traces: ``tf.function`` (TensorFlow, and Keras on its default TensorFlow backend),
    ``jax.jit`` (JAX); None for the libraries that trace nothing."""
    namespace: dict = {}
    body = "".join(f"    {line}\n" for line in code.splitlines())
    exec(imports + "def program(x):\n" + body + "    return y\n", namespace)  # noqa: S102 - our own examples
    program = namespace["program"]
    if framework in ("tf", "keras"):
        import tensorflow as tf

        return tf.function(program)
    if framework == "jax":
        import jax

        return jax.jit(program)
    return None


def dtype_name(result) -> str:
    """``float16`` for a NumPy, JAX, TensorFlow or PyTorch array's dtype; the type's name otherwise."""
    dtype = getattr(result, "dtype", None)
    if dtype is None:
        return type(result).__name__
    return getattr(dtype, "name", None) or str(dtype).removeprefix("torch.")  # torch.dtype has no name
