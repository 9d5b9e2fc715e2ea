"""Keras 3 programs run on each backend: ``KERAS_BACKEND`` must be set before Keras is first
imported, so each backend gets one subprocess that runs every program handed to it, eager
and traced (``jax.jit`` on JAX, ``tf.function`` on TensorFlow; the torch backend traces
nothing here), and reports what each returned.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

_WORKER = r'''
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import keras

backend = keras.backend.backend()


def traced(function):
    if backend == "jax":
        import jax
        return jax.jit(function)
    if backend == "tensorflow":
        import tensorflow as tf
        return tf.function(function)
    return None


def described(result):
    return {
        "type": type(result).__module__.split(".")[0] + "." + type(result).__name__,
        "dtype": keras.backend.standardize_dtype(result.dtype),
        "shape": list(result.shape),
        "values": np.asarray(keras.ops.convert_to_numpy(result), dtype=np.float64).tolist(),
    }


results = []
for program in json.load(sys.stdin):
    outcome = {}
    body = "".join(f"    {line}\n" for line in program["code"].splitlines())
    for mode in ("eager", "traced"):
        namespace = {}
        try:
            signature = ", ".join(program["variables"])
            exec(program["imports"] + f"def program({signature}):\n" + body + f"    return {program['output']}\n",
                 namespace)
            function = namespace["program"] if mode == "eager" else traced(namespace["program"])
            if function is None:
                continue
            inputs = [keras.ops.convert_to_tensor(np.asarray(values, dtype=program["dtype"])) for values in program["inputs"]]
            outcome[mode] = described(function(*inputs))
        except Exception as error:
            outcome[mode] = {"error": f"{type(error).__name__}: {error}"[:400]}
    results.append(outcome)
print(json.dumps(results))
'''


@functools.lru_cache(maxsize=None)
def _run(backend: str, programs: str) -> list[dict]:
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(
        [sys.executable, "-c", _WORKER], input=programs, capture_output=True, text=True, env=environment, timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the {backend} backend's worker failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_on_backend(backend: str, programs: list[dict]) -> list[dict]:
    """For each program (``code`` computing ``output`` from ``variables``, its ``imports``,
    the ``inputs`` as nested lists and their ``dtype``): {"eager": ..., "traced": ...}, each
    the result's type, dtype, shape and values, or {"error": text}. One subprocess per
    backend and list."""
    return _run(backend, json.dumps(programs))
