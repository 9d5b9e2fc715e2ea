"""Every rule's fix, executed in the real framework with each legal spelling of the
arguments it carries over: positional and keyword, explicit ``None``, tuple, list, empty
and negative dims, ``keepdim`` positional, ``dtype=``, the function and the method form.

A fix that type-checks as text can still call the stable function with an argument it
does not take: ``torch.logsumexp(x, None)`` is a TypeError (pytorch#144339) where
``torch.sum(torch.exp(x), None)`` is fine. So each spelling is run before and after the
fix; where the original runs, the fix must run too and give the same value, shape and
dtype. A new rule, or a new framework for a rule, must add its spellings here
(`test_every_rule_with_an_executable_fix_has_spellings`).
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass, field

import pytest

from stablelint.engine import fix_source
from stablelint.rules import ALL_RULES
from stablelint.rules.base import IMPORTS_BY_FRAMEWORK

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
scipy_special = pytest.importorskip("scipy.special")

# The frameworks whose spellings run here: TensorFlow and JAX eager and traced
# (tf.function, jax.jit), Keras 3 on its TensorFlow backend in this process and on the JAX
# and torch backends in subprocesses (tests/keras_backends.py).
EXECUTABLE = ("torch", "numpy", "math", "tf", "jax", "keras")
TRACED = ("tf", "jax", "keras")


def torch_reductions(exp: str) -> list[str]:
    """``sum(exp)`` in every spelling torch.sum and Tensor.sum accept."""
    functions = [
        "", "1", "-1", "dim=1", "axis=-1", "None", "dim=None", "dim=None, keepdim=False", "None, False",
        "None, True", "dim=None, keepdim=True", "(0, 1)", "(0, -1), True", "[0, 1]", "()", "dim=[]", "(1,)",
        "1, True", "1, False", "1, keepdim=True", "-1, keepdims=True", "axis=1, keepdims=True", "dim=(1,), keepdim=True",
        "1, dtype=torch.float32", "dim=1, dtype=torch.float64",
    ]
    methods = [
        "", "1", "-1", "None", "dim=None", "-1, True", "(0, 1)", "dim=(0, 1), keepdim=True", "()",
        "1, dtype=torch.float32", "axis=1, keepdims=True", "dim=-1, keepdim=False",
    ]
    spelled = [f"torch.sum({exp}{', ' + args if args else ''})" for args in functions]
    spelled += [f"torch.sum(input={exp}, dim=1)"]
    spelled += [f"{exp}.sum({args})" for args in methods]
    return spelled


def numpy_reductions(exp: str) -> list[str]:
    functions = [
        "", "1", "-1", "axis=1", "axis=None", "None", "axis=(0, 1)", "(0, -1)", "axis=()", "1, keepdims=True",
        "axis=None, keepdims=True", "axis=-1, keepdims=False", "1, None, None, True", "1, np.float64",
        "axis=1, dtype=np.float32",
    ]
    methods = ["", "1", "axis=None", "-1, keepdims=True", "axis=(0, 1)", "axis=1, dtype=np.float32"]
    spelled = [f"np.sum({exp}{', ' + args if args else ''})" for args in functions]
    spelled += [f"{exp}.sum({args})" for args in methods]
    return spelled


TORCH_EXPS = ["torch.exp(x)", "x.exp()"]
NUMPY_EXPS = ["np.exp(x)"]
TORCH_SOFTMAX_ARGS = ["1", "-1", "dim=1", "dim=-1", "0", "1, torch.float64", "dim=1, dtype=torch.float64"]

SPELLINGS: dict[tuple[str, str], list[str]] = {
    ("STB101", "torch"): [
        f"{log}"
        for args in TORCH_SOFTMAX_ARGS
        for log in (
            f"torch.log(torch.softmax(x, {args}))", f"torch.log(F.softmax(x, {args}))",
            f"torch.log(torch.special.softmax(x, {args}))", f"x.softmax({args}).log()",
            f"torch.log(x.softmax({args}))", f"torch.log(torch.nn.functional.softmax(x, {args}))",
        )
    ] + ["torch.log(F.softmax(x, None))", "torch.log(F.softmax(x, dim=None))", "torch.log(F.softmax(x))"],
    ("STB101", "numpy"): [
        f"np.log(scipy.special.softmax(x{args}))" for args in ("", ", 1", ", axis=-1", ", axis=None", ", axis=(0, 1)")
    ],
    ("STB102", "torch"): [
        wrapped
        for exp in TORCH_EXPS
        for total in torch_reductions(exp)
        for wrapped in (f"torch.log({total})", f"{total}.log()")
    ],
    ("STB102", "numpy"): [f"np.log({total})" for exp in NUMPY_EXPS for total in numpy_reductions(exp)],
    ("STB103", "torch"): [
        f"{exp} / {total}" for exp in TORCH_EXPS for total in torch_reductions(exp)
    ],
    ("STB103", "numpy"): [f"{exp} / {total}" for exp in NUMPY_EXPS for total in numpy_reductions(exp)],
    ("STB104", "torch"): [
        "torch.log(torch.sigmoid(x))", "x.sigmoid().log()", "torch.log(F.sigmoid(x))",
        "torch.log(torch.special.expit(x))", "torch.log(x.sigmoid())", "torch.sigmoid(x).log()",
    ],
    ("STB104", "numpy"): ["np.log(scipy.special.expit(x))"],
    ("STB105", "torch"): [
        "torch.log(1 - torch.sigmoid(x))", "torch.log(1.0 - x.sigmoid())", "(1 - torch.sigmoid(x)).log()",
        "torch.log(torch.ones_like(x) - torch.sigmoid(x))", "torch.log(1 - torch.sigmoid(-x))",
        "torch.log(1 - F.sigmoid(2 * x))", "torch.log1p(-torch.sigmoid(x))",
    ],
    ("STB105", "numpy"): ["np.log(1 - scipy.special.expit(x))", "np.log1p(-scipy.special.expit(x))"],
    ("STB106", "torch"): [
        "torch.log(1 + (torch.tanh(x) / 1e5))", "torch.log((torch.tanh(x) / 1e5) + 1)", "torch.log(1.0 + (torch.tanh(x) / 1e5))", "(1 + (torch.tanh(x) / 1e5)).log()", "((torch.tanh(x) / 1e5) + 1).log()",
        "torch.log(1 + 2 * (torch.tanh(x) / 1e5))", "torch.log(input=1 + (torch.tanh(x) / 1e5))", "torch.log(1 + (torch.tanh(x) / 1e5).abs())",
    ],
    # Reported (and fixed) only where the code proves x lies where more than half of the digits go:
    # below 2.5e-4 in float32 (a tanh scaled down here), 1e-8 in float64 (NumPy).
    ("STB106", "numpy"): [
        "np.log(1 + np.clip(x, -1e-9, 1e-9))", "np.log(np.clip(x, -1e-9, 1e-9) + 1.0)",
        "np.log(1 + np.abs(np.clip(x, -1e-9, 1e-9)))",
    ],
    ("STB107", "torch"): [
        "torch.exp((torch.tanh(x) / 1e5)) - 1", "(torch.tanh(x) / 1e5).exp() - 1.0", "((torch.tanh(x) / 1e5) / 2).exp() - 1", "torch.exp((torch.tanh(x) / 1e5)) - torch.ones_like((torch.tanh(x) / 1e5))",
        "torch.exp(input=(torch.tanh(x) / 1e5)) - 1", "1 - torch.exp((torch.tanh(x) / 1e5))", "torch.exp(-(torch.tanh(x) / 1e5)) - 1",
    ],
    ("STB107", "numpy"): [
        "np.exp(np.clip(x, -1e-9, 1e-9)) - 1", "np.exp(np.clip(x, -1e-9, 1e-9)) - 1.0",
        "1 - np.exp(np.clip(x, -1e-9, 1e-9))",
    ],
    ("STB108", "torch"): [
        "torch.log(1 + torch.exp(x))", "(1 + x.exp()).log()", "torch.log(torch.exp(x) + 1)",
        "torch.log1p(torch.exp(x))", "torch.log(1 + torch.exp(2 * x))",
    ],
    ("STB108", "numpy"): [
        "np.log(1 + np.exp(x))", "np.log(np.exp(x) + 1)", "np.log(np.ones_like(x) + np.exp(x))",
        "np.log1p(np.exp(x))",
    ],
    ("STB109", "torch"): [
        "torch.log(torch.exp(x) + torch.exp(z))", "torch.log(x.exp() + z.exp())",
        "(torch.exp(x) + torch.exp(z)).log()", "torch.log(torch.exp(x) + torch.exp(z[0]))",
    ],
    ("STB109", "numpy"): ["np.log(np.exp(x) + np.exp(z))", "np.log(np.exp(x) + np.exp(z[0]))"],
    ("STB601", "torch"): [
        "torch.log(torch.det(x @ x.T))", "torch.linalg.det(x @ x.T).log()", "(x @ x.T).det().log()",
        "torch.log(torch.abs(torch.linalg.det(x @ x.T)))", "torch.log(input=torch.det(x @ x.T))",
    ],
    ("STB601", "numpy"): ["np.log(np.linalg.det(x @ x.T))", "np.log(np.abs(np.linalg.det(x @ x.T)))"],
    ("STB602", "torch"): [
        "torch.inverse(x @ x.T) @ x", "torch.linalg.inv(x @ x.T) @ x[:, 0]", "torch.matmul(torch.inverse(x @ x.T), z)",
        "(x @ x.T).inverse() @ z", "torch.mm(torch.linalg.inv(x @ x.T), x)",
    ],
    ("STB602", "numpy"): [
        "np.linalg.inv(x @ x.T) @ x", "np.linalg.inv(x @ x.T).dot(z)", "np.dot(np.linalg.inv(x @ x.T), x[:, 0])",
        "np.matmul(np.linalg.inv(x @ x.T), z)",
    ],
    ("STB603", "torch"): [
        "torch.linalg.inv(x.T.T @ x.T) @ x.T.T @ x[0]", "torch.inverse(x.mT.mT @ x.mT) @ (x.mT.mT @ z.T)",
        "torch.linalg.solve(x.T.T @ x.T, x.T.T @ x[0])",
    ],
    ("STB603", "numpy"): [
        "np.linalg.inv(x.T.T @ x.T) @ x.T.T @ x[0]", "np.linalg.inv(x.T.T.dot(x.T)).dot(x.T.T).dot(z[0])",
        "np.linalg.solve(np.dot(x.T.T, x.T), np.dot(x.T.T, z.T))",
    ],
    ("STB110", "torch"): [
        wrapped
        for exp in TORCH_EXPS
        for args in ("1", "-1", "dim=1", "dim=-1", "0", "1, dtype=torch.float64", "dim=0, dtype=torch.float32")
        for wrapped in (f"torch.log(torch.cumsum({exp}, {args}))", f"{exp}.cumsum({args}).log()")
    ],
    ("STB301", "torch"): [
        f"{loss}({probabilities}, (z > 0).double(){options})"
        for loss in ("F.binary_cross_entropy", "torch.nn.functional.binary_cross_entropy")
        for probabilities in ("torch.sigmoid(x)", "x.sigmoid()", "torch.special.expit(2 * x)", "F.sigmoid(x)")
        for options in ("", ", z.abs()", ", reduction='sum'", ", weight=z.abs(), reduction='none'",
                        ", None, None, None, 'sum'", ", z.abs(), size_average=False")
    ] + [
        "F.binary_cross_entropy(input=torch.sigmoid(x), target=(z > 0).double())",
        "F.binary_cross_entropy(target=(z > 0).double(), input=torch.sigmoid(x), reduction='sum')",
        "torch.nn.BCELoss()(torch.sigmoid(x), (z > 0).double())",
        "torch.nn.BCELoss(z.abs(), reduction='sum')(torch.sigmoid(x), (z > 0).double())",
        "torch.nn.BCELoss(reduction='none')(x.sigmoid(), (z > 0).double())",
        "torch.nn.BCELoss(weight=z.abs())(input=torch.sigmoid(x), target=(z > 0).double())",
    ],
    ("STB201", "torch"): [
        spelled
        for args in (
            "", "1", "-1", "dim=1", "dim=-1, keepdim=True", "1, keepdim=True", "(0, 1)", "dim=(0, 1)", "None",
            "dim=None", "axis=1", "axis=1, keepdims=True", "1, True", "dtype=torch.float64", "dim=[0, 1]",
        )
        for spelled in (
            f"torch.mean(x ** 2{', ' + args if args else ''}) - torch.mean(x{', ' + args if args else ''}) ** 2",
            f"(x * x).mean({args}) - x.mean({args}) ** 2",
            f"x.pow(2).mean({args}) - x.mean({args}).pow(2)",
        )
    ] + ["torch.mean(torch.square(x), 1) - torch.square(torch.mean(x, 1))"],
    ("STB201", "numpy"): [
        f"np.mean(x ** 2{args}) - np.mean(x{args}) ** 2"
        for args in ("", ", 1", ", axis=0", ", axis=-1, keepdims=True", ", axis=(0, 1)", ", axis=None", ", 1, None")
    ] + [
        "np.mean(np.square(x), 1) - np.square(np.mean(x, 1))", "(x * x).mean(axis=1) - x.mean(axis=1) ** 2",
        "(x ** 2).mean(axis=0, keepdims=True) - x.mean(axis=0, keepdims=True) ** 2",
    ],
    # The eps is tiny here: the fix moves it inside the root, which changes the value by ~eps.
    ("STB202", "torch"): [
        "torch.sqrt(x.var(1)) + 1e-12", "x.var(dim=1, keepdim=True).sqrt() + 1e-12",
        "torch.sqrt(torch.var(x, 1, correction=0)) + 1e-12", "1e-12 + torch.sqrt(x.var())",
        "torch.sqrt(((x - x.mean(1, keepdim=True)) ** 2).mean(1)) + 1e-12",
        "torch.sqrt(x.var(dim=(0, 1), unbiased=False)) + 1e-12",
    ],
    ("STB203", "torch"): [
        "x / x.norm(dim=1, keepdim=True)", "x / x.norm(dim=-1, keepdim=True)", "x / torch.norm(x, dim=1, keepdim=True)",
        "x / torch.linalg.vector_norm(x, dim=0, keepdim=True)", "x / x.norm(p=2, dim=1, keepdim=True)",
        "x / torch.linalg.norm(x, dim=1, keepdim=True)", "x / x.norm(dim=(0, 1), keepdim=True)",
        "x / torch.norm(x, 2, 1, True)",
    ],
    ("STB205", "torch"): [  # a difference can be the zero vector (analysis.zeros)
        "torch.sqrt(torch.sum((x - z) ** 2))", "torch.sqrt(torch.sum((x - z) ** 2, 1))", "torch.sqrt(torch.sum((x - z) * (x - z), dim=1, keepdim=True))",
        "((x - z) * (x - z)).sum(-1).sqrt()", "(x - z).pow(2).sum(dim=(0, 1)).sqrt()", "torch.sqrt(torch.sum(torch.square(x - z), -1, True))",
        "torch.sqrt(torch.sum((x - z) ** 2, None))", "torch.sqrt(torch.sum((x - z) ** 2, axis=1))", "torch.sqrt(torch.sum((x - z) ** 2, dim=[0, 1]))",
        "torch.sqrt(torch.sum((x - z) ** 2, ()))", "torch.sqrt(torch.sum((x - z) ** 2, 1, dtype=torch.float64))",
        "((x - z) ** 2).sum(1, keepdim=True).sqrt()",
    ],
    ("STB404", "torch"): [
        "torch.sqrt(torch.tanh(x))", "torch.tanh(x).sqrt()", "torch.sqrt(torch.sigmoid(x) - 0.25)",
        "torch.sqrt(input=torch.tanh(x))", "torch.sqrt(1.0 - torch.sigmoid(x) * 2)",
    ],
    ("STB404", "numpy"): ["np.sqrt(np.tanh(x))", "np.sqrt(scipy.special.expit(x) - 0.25)", "np.sqrt(0.5 - np.tanh(x))"],
    ("STB111", "torch"): [
        "1 / (1 + torch.exp(-x))", "1.0 / (1.0 + (-x).exp())", "1 / (torch.exp(-x) + 1)", "torch.exp(x) / (1 + torch.exp(x))",
        "x.exp() / (x.exp() + 1)", "1 / (1 + torch.exp(torch.neg(x)))", "torch.div(1, 1 + torch.exp(-x))",
    ],
    ("STB111", "numpy"): ["np.exp(x) / (np.exp(x) + 1)", "np.exp(x) / (1.0 + np.exp(x))"],
    ("STB112", "torch"): [
        "(torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))",
        "(torch.exp(-x) - torch.exp(x)) / (torch.exp(x) + torch.exp(-x))",
        "(1 - torch.exp(-2 * x)) / (1 + torch.exp(-2 * x))", "(torch.exp(2 * x) - 1) / (torch.exp(2 * x) + 1)",
        "(torch.exp(x * 2) - 1) / (1 + torch.exp(x * 2))", "(1 - torch.exp(2 * x)) / (1 + torch.exp(2 * x))",
        "(x.exp() - (-x).exp()) / (x.exp() + (-x).exp())",
    ],
    ("STB112", "numpy"): [
        "(np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))", "(np.exp(2 * x) - 1) / (np.exp(2 * x) + 1)",
        "(1.0 - np.exp(-2.0 * x)) / (1.0 + np.exp(-2.0 * x))",
    ],
    ("STB112", "math"): ["(1 - math.exp(-2 * s)) / (1 + math.exp(-2 * s))", "(math.exp(s) - math.exp(-s)) / (math.exp(s) + math.exp(-s))"],
    ("STB113", "torch"): ["torch.log(torch.exp(x))", "x.exp().log()", "torch.log(torch.exp(2 * x))", "torch.log(x.exp()) * 3"],
    ("STB113", "numpy"): ["np.log(np.exp(x))", "np.log(np.exp(x + z))"],
    ("STB113", "math"): ["math.log(math.exp(s))", "2 * math.log(math.exp(s + 1))"],
    ("STB114", "torch"): [
        "x * torch.log(x)", "torch.log(x) * x", "x * x.log()", "-x * torch.log(x)", "x.abs() * torch.log(x.abs())",
        "z.abs() * torch.log(z.abs() / x.abs())",
    ],
    ("STB114", "numpy"): ["x * np.log(x)", "np.abs(z) * np.log(np.abs(z) / np.abs(x))", "-x * np.log(x)"],
    ("STB115", "torch"): [
        "torch.atan(z / x.clamp(min=1e-6))", "torch.atan(z / torch.clamp(x, min=0.5))", "torch.arctan(z / x.clamp(min=1e-3))",
    ],
    ("STB115", "numpy"): ["np.arctan(z / np.clip(x, 1e-6, None))", "np.arctan(z / np.maximum(x, 0.1))"],
    ("STB116", "torch"): [
        "torch.where(x > 20, x, torch.log1p(torch.exp(x)))", "torch.where(x > 1.5, x, torch.log(1 + torch.exp(x)))",
        "torch.where(x <= 20, torch.log1p(torch.exp(x)), x)", "torch.where(x >= 2, x, torch.log1p(torch.exp(x)))",
    ],
    ("STB116", "numpy"): ["np.where(x > 20, x, np.log(1 + np.exp(x)))"],
    ("STB117", "torch"): [
        "torch.log(1 - torch.tanh(x) ** 2)", "torch.log(1 - torch.tanh(x).pow(2))", "torch.log1p(-torch.tanh(x) ** 2)",
        "torch.log(1 - torch.square(torch.tanh(x)))", "torch.log(1.0 - torch.tanh(2 * x) * torch.tanh(2 * x))",
        "(1 - x.tanh() ** 2).log()", "torch.log(1 - torch.tanh(torch.abs(z)) ** 2)",
    ],
    ("STB117", "numpy"): ["np.log(1 - np.tanh(x) ** 2)", "np.log(1.0 - np.square(np.tanh(x)))"],
    ("STB118", "torch"): [
        # An exponent the code lets pass exp's overflow bound (unknown x is not reported).
        "torch.exp(x.clamp(-100.0, 100.0)).clamp(max=20.0)", "x.clamp(-100.0, 100.0).exp().clamp_max(3.0)",
        "torch.clamp(torch.exp(x.clamp(-100.0, 100.0)), max=2.0)", "torch.exp(x.clamp(-100.0, 100.0)).clamp(0, 3.0)",
        "torch.clip(torch.exp(x.clamp(-100.0, 100.0)), max=3.0)",
        "torch.exp(2 * x.clamp(-50.0, 50.0)).clamp(None, 5.0)",
        "torch.exp(x.clamp(-100.0, 100.0)).clamp(min=0.0, max=4.0)", "x.clamp(-100.0, 100.0).exp().clamp_max(max=2.0)",
    ],
    ("STB120", "torch"): [
        "torch.exp(torch.lgamma(x.abs() + 0.5)) / torch.exp(torch.lgamma(z.abs() + 0.5))",
        "(x.abs() + 0.5).lgamma().exp() / (z.abs() + 0.5).lgamma().exp()",
        "torch.exp(torch.lgamma(x.abs() + z.abs() + 1)) / torch.exp(torch.lgamma(x.abs() + 1) + torch.lgamma(z.abs() + 1))",
        "torch.exp(torch.special.gammaln(x.abs() + 1)) / torch.exp(torch.special.gammaln(z.abs() + 1))",
    ],
    ("STB120", "numpy"): [
        "np.exp(scipy.special.gammaln(np.abs(x) + 0.5)) / np.exp(scipy.special.gammaln(np.abs(z) + 0.5))",
        "np.exp(scipy.special.gammaln(np.abs(x) + 1) - scipy.special.gammaln(2.0)) / np.exp(scipy.special.gammaln(np.abs(z) + 1))",
    ],
    ("STB122", "torch"): [
        "torch.exp(x) / (1 + torch.exp(x)) ** 2", "torch.exp(-x) / (1 + torch.exp(-x)) ** 2",
        "torch.exp(x) / torch.square(1 + torch.exp(x))", "x.exp() / (x.exp() + 1) ** 2",
        "torch.exp(2 * x) / (1.0 + torch.exp(2 * x)).pow(2)",
    ],
    ("STB122", "numpy"): ["np.exp(x) / (1 + np.exp(x)) ** 2", "np.exp(-x) / np.square(1.0 + np.exp(-x))"],
    ("STB123", "torch"): [
        "torch.sqrt(1 + (torch.tanh(x) / 1e5).abs()) - 1", "((torch.tanh(x) / 1e5).abs() + 1).sqrt() - 1", "torch.sqrt(torch.abs((torch.tanh(x) / 1e5)) + 1) - 1",
        "torch.sqrt(1.0 + (torch.tanh(x) / 1e5) * (torch.tanh(x) / 1e5)) - 1.0", "torch.sqrt(1 + 4 * 1e-3 * (torch.abs((torch.tanh(x) / 1e5)) + 1 + 1e-3)) - 1",
    ],
    ("STB123", "numpy"): ["np.sqrt(1 + np.abs((np.tanh(x) / 1e10))) - 1", "np.sqrt(np.abs((np.tanh(x) / 1e10)) + 1.0) - 1.0", "np.sqrt(1 + (np.tanh(x) / 1e10) ** 2) - 1"],
    # No math spelling: the analysis proves no range of a Python float that small (STB123 is silent there).
    ("STB206", "torch"): [
        "torch.sqrt(x.var(0)).clamp_min(1e-3)", "x.var(1).sqrt().clamp(min=1e-3)",
        "torch.clamp(torch.sqrt(x.var(0)), min=1e-3)", "torch.sqrt(x.var(dim=1, keepdim=True)).clamp(1e-3)",
        "torch.maximum(torch.sqrt(x.var(0)), torch.tensor(1e-3, dtype=torch.float64))",
        "torch.sqrt(x.var(0, unbiased=False)).clamp_min(min=0.5)",
    ],
}

# TensorFlow, JAX and Keras 3: the legal spellings of each fix's arguments and operands.
TF_SUMS = ["tf.reduce_sum(tf.exp(x), axis=1)", "tf.reduce_sum(tf.exp(x), 1)", "tf.reduce_sum(tf.exp(x), axis=-1, keepdims=True)",
           "tf.math.reduce_sum(tf.exp(x), axis=[0, 1])", "tf.reduce_sum(tf.math.exp(x))", "tf.reduce_sum(tf.exp(x), axis=None)"]
JAX_SUMS = ["jnp.sum(jnp.exp(x), axis=1)", "jnp.sum(jnp.exp(x), 1)", "jnp.sum(jnp.exp(x), axis=-1, keepdims=True)",
            "jnp.sum(jnp.exp(x), axis=(0, 1))", "jnp.sum(jnp.exp(x))", "jnp.exp(x).sum(axis=1)", "jnp.exp(x).sum(-1, keepdims=True)"]
KERAS_SUMS = ["keras.ops.sum(keras.ops.exp(x), axis=1)", "keras.ops.sum(keras.ops.exp(x), 1)",
              "keras.ops.sum(keras.ops.exp(x), axis=-1, keepdims=True)", "keras.ops.sum(keras.ops.exp(x))"]
SPELLINGS.update({
    ("STB101", "tf"): ["tf.math.log(tf.nn.softmax(x, axis=-1))", "tf.math.log(tf.nn.softmax(x))", "tf.math.log(tf.nn.softmax(x, 1))",
                       "tf.math.log(tf.nn.softmax(x, axis=0))", "tf.math.log(tf.math.softmax(x, axis=1))"],
    ("STB101", "jax"): ["jnp.log(jax.nn.softmax(x, axis=1))", "jnp.log(jax.nn.softmax(x))", "jnp.log(jax.nn.softmax(x, -1))",
                        "jnp.log(jax.nn.softmax(x, axis=(0, 1)))", "jnp.log(jax.nn.softmax(x, axis=0))"],
    ("STB101", "keras"): ["keras.ops.log(keras.ops.softmax(x))", "keras.ops.log(keras.ops.softmax(x, axis=1))",
                          "keras.ops.log(keras.ops.softmax(x, 0))", "keras.ops.log(keras.activations.softmax(x))"],
    ("STB102", "tf"): [f"tf.math.log({total})" for total in TF_SUMS],
    ("STB102", "jax"): [f"jnp.log({total})" for total in JAX_SUMS],
    ("STB102", "keras"): [f"keras.ops.log({total})" for total in KERAS_SUMS],
    ("STB103", "tf"): [f"tf.exp(x) / {total}" for total in TF_SUMS],
    ("STB103", "jax"): [f"jnp.exp(x) / {total}" for total in JAX_SUMS],
    ("STB103", "keras"): [f"keras.ops.exp(x) / {total}" for total in KERAS_SUMS],
    ("STB104", "tf"): ["tf.math.log(tf.sigmoid(x))", "tf.math.log(tf.math.sigmoid(x))", "tf.math.log(tf.nn.sigmoid(2 * x))"],
    ("STB104", "jax"): ["jnp.log(jax.nn.sigmoid(x))", "jnp.log(jax.scipy.special.expit(x))", "jnp.log(jax.nn.sigmoid(-x))"],
    ("STB104", "keras"): ["keras.ops.log(keras.ops.sigmoid(x))", "keras.ops.log(keras.activations.sigmoid(x))"],
    ("STB105", "tf"): ["tf.math.log(1 - tf.sigmoid(x))", "tf.math.log(1.0 - tf.math.sigmoid(x))", "tf.math.log1p(-tf.sigmoid(x))"],
    ("STB105", "jax"): ["jnp.log(1 - jax.nn.sigmoid(x))", "jnp.log1p(-jax.nn.sigmoid(x))", "jnp.log(1.0 - jax.nn.sigmoid(2 * x))"],
    ("STB105", "keras"): ["keras.ops.log(1 - keras.ops.sigmoid(x))", "keras.ops.log1p(-keras.ops.sigmoid(x))"],
    ("STB106", "tf"): ["tf.math.log(1 + (tf.tanh(x) / 1e5))", "tf.math.log((tf.tanh(x) / 1e5) + 1.0)", "tf.math.log(1 + tf.abs((tf.tanh(x) / 1e5)))"],
    ("STB106", "jax"): ["jnp.log((jnp.tanh(x) / 1e5) + 1)", "jnp.log(1.0 + (jnp.tanh(x) / 1e5))", "jnp.log(1 + jnp.abs((jnp.tanh(x) / 1e5)))"],
    ("STB106", "keras"): ["keras.ops.log(1 + (keras.ops.tanh(x) / 1e5))", "keras.ops.log((keras.ops.tanh(x) / 1e5) + 1.0)", "keras.ops.log(1 + keras.ops.abs((keras.ops.tanh(x) / 1e5)))"],
    ("STB107", "tf"): ["tf.exp((tf.tanh(x) / 1e5)) - 1", "tf.math.exp((tf.tanh(x) / 1e5)) - 1.0", "1 - tf.exp((tf.tanh(x) / 1e5))"],
    ("STB107", "jax"): ["jnp.exp((jnp.tanh(x) / 1e5)) - 1", "jnp.exp((jnp.tanh(x) / 1e5)) - 1.0", "1 - jnp.exp((jnp.tanh(x) / 1e5))"],
    ("STB107", "keras"): ["keras.ops.exp((keras.ops.tanh(x) / 1e5)) - 1", "1 - keras.ops.exp((keras.ops.tanh(x) / 1e5))"],
    ("STB108", "tf"): ["tf.math.log(1 + tf.exp(x))", "tf.math.log(tf.exp(x) + 1)", "tf.math.log1p(tf.exp(x))"],
    ("STB108", "jax"): ["jnp.log(1 + jnp.exp(x))", "jnp.log(jnp.exp(x) + 1)", "jnp.log1p(jnp.exp(x))"],
    ("STB108", "keras"): ["keras.ops.log(1 + keras.ops.exp(x))", "keras.ops.log1p(keras.ops.exp(x))"],
    ("STB109", "jax"): ["jnp.log(jnp.exp(x) + jnp.exp(z))", "jnp.log(jnp.exp(x) + jnp.exp(z[0]))"],
    ("STB109", "keras"): ["keras.ops.log(keras.ops.exp(x) + keras.ops.exp(z))"],
    ("STB110", "tf"): ["tf.math.log(tf.math.cumsum(tf.exp(x), axis=1))", "tf.math.log(tf.cumsum(tf.exp(x), 0))"],
    ("STB111", "tf"): ["1 / (1 + tf.exp(-x))", "tf.exp(x) / (1 + tf.exp(x))", "1.0 / (tf.exp(-x) + 1)"],
    ("STB111", "jax"): ["1 / (1 + jnp.exp(-x))", "jnp.exp(x) / (jnp.exp(x) + 1)", "1.0 / (jnp.exp(-x) + 1.0)"],
    ("STB111", "keras"): ["1 / (1 + keras.ops.exp(-x))", "keras.ops.exp(x) / (1 + keras.ops.exp(x))"],
    ("STB112", "tf"): ["(tf.exp(x) - tf.exp(-x)) / (tf.exp(x) + tf.exp(-x))", "(1 - tf.exp(-2 * x)) / (1 + tf.exp(-2 * x))"],
    ("STB112", "jax"): ["(1 - jnp.exp(-2 * x)) / (1 + jnp.exp(-2 * x))", "(jnp.exp(2 * x) - 1) / (jnp.exp(2 * x) + 1)"],
    ("STB113", "tf"): ["tf.math.log(tf.exp(x))", "tf.math.log(tf.exp(2 * x))", "tf.math.log(tf.exp(x + z))"],
    ("STB113", "jax"): ["jnp.log(jnp.exp(x))", "jnp.log(jnp.exp(x + z))", "jnp.log(jnp.exp(x)) * 3"],
    ("STB113", "keras"): ["keras.ops.log(keras.ops.exp(x))", "keras.ops.log(keras.ops.exp(x + z))"],
    ("STB114", "tf"): ["tf.abs(x) * tf.math.log(tf.abs(x))", "-tf.abs(z) * tf.math.log(tf.abs(z))"],
    ("STB114", "jax"): ["jnp.abs(x) * jnp.log(jnp.abs(x))", "jnp.abs(z) * jnp.log(jnp.abs(z) / jnp.abs(x))"],
    ("STB115", "jax"): ["jnp.arctan(z / jnp.maximum(x, 1e-6))", "jnp.arctan(z / jnp.maximum(x, 0.5))"],
    ("STB116", "tf"): ["tf.where(x > 20.0, x, tf.math.log1p(tf.exp(x)))", "tf.where(x > 1.5, x, tf.math.log(1 + tf.exp(x)))",
                       "tf.where(x > 15, x, tf.math.log(1 + tf.exp(x)))"],
    ("STB116", "jax"): ["jnp.where(x > 20, x, jnp.log1p(jnp.exp(x)))", "jnp.where(x <= 20, jnp.log1p(jnp.exp(x)), x)"],
    ("STB201", "tf"): ["tf.reduce_mean(tf.square(x), axis=1) - tf.square(tf.reduce_mean(x, axis=1))",
                       "tf.reduce_mean(x * x, axis=0) - tf.reduce_mean(x, axis=0) ** 2",
                       "tf.reduce_mean(tf.square(x)) - tf.square(tf.reduce_mean(x))"],
    ("STB201", "jax"): ["jnp.mean(x ** 2, axis=-1) - jnp.mean(x, axis=-1) ** 2", "jnp.mean(x * x) - jnp.mean(x) ** 2",
                        "(x ** 2).mean(axis=0) - x.mean(axis=0) ** 2"],
    ("STB202", "tf"): ["tf.math.reduce_std(x, axis=1) + 1e-12", "1e-12 + tf.math.reduce_std(x)"],
    ("STB202", "jax"): ["jnp.std(x, axis=-1) + 1e-12", "jnp.std(x) + 1e-12"],
    ("STB301", "keras"): ["keras.losses.binary_crossentropy((z > 0) * 1.0, keras.ops.sigmoid(x))",
                          "keras.losses.binary_crossentropy((z > 0) * 1.0, keras.activations.sigmoid(x))"],
    ("STB303", "keras"): ["keras.losses.categorical_crossentropy(keras.ops.softmax(z), keras.ops.softmax(x))",
                          "keras.losses.CategoricalCrossentropy()(keras.ops.softmax(z), keras.ops.softmax(x))"],
    ("STB404", "tf"): ["tf.sqrt(tf.sigmoid(x) - 0.25)", "tf.sqrt(tf.tanh(x))"],
    ("STB404", "jax"): ["jnp.sqrt(jax.nn.sigmoid(x) - 0.25)", "jnp.sqrt(jnp.tanh(x))"],
    ("STB404", "keras"): ["keras.ops.sqrt(keras.ops.sigmoid(x) - 0.25)", "keras.ops.sqrt(keras.ops.tanh(x))"],
    ("STB601", "tf"): ["tf.math.log(tf.abs(tf.linalg.det(x @ tf.transpose(x))))"],
    ("STB601", "jax"): ["jnp.log(jnp.abs(jnp.linalg.det(x @ x.T)))", "jnp.log(jnp.linalg.det(x @ x.T))"],
    ("STB602", "tf"): ["tf.linalg.inv(x @ tf.transpose(x)) @ x", "tf.linalg.inv(x @ tf.transpose(x)) @ z"],
    ("STB602", "jax"): ["jnp.linalg.inv(x @ x.T) @ x", "jnp.linalg.inv(x @ x.T) @ z[:, 0]"],
    ("STB603", "tf"): ["tf.linalg.inv(tf.transpose(x) @ x) @ tf.transpose(x) @ z"],
    ("STB603", "jax"): ["jnp.linalg.inv(x.T @ x) @ (x.T @ z[:, 0])", "jnp.linalg.inv(x.T @ x) @ x.T @ z"],
    ("STB117", "tf"): ["tf.math.log(1 - tf.square(tf.tanh(x)))", "tf.math.log(1.0 - tf.tanh(x) ** 2)"],
    ("STB117", "jax"): ["jnp.log(1 - jnp.tanh(x) ** 2)", "jnp.log(1.0 - jnp.square(jnp.tanh(x)))"],
    ("STB118", "tf"): ["tf.minimum(tf.exp(tf.clip_by_value(x, -100.0, 100.0)), 20.0)",
                       "tf.minimum(tf.exp(tf.clip_by_value(z, -100.0, 100.0)), 3.0)"],
    ("STB118", "jax"): ["jnp.clip(jnp.exp(jnp.clip(x, -100.0, 100.0)), None, 20.0)",
                        "jnp.minimum(jnp.exp(jnp.clip(x, -100.0, 100.0)), 3.0)"],
    ("STB120", "tf"): ["tf.exp(tf.math.lgamma(tf.abs(x) + 1)) / tf.exp(tf.math.lgamma(tf.abs(z) + 1))"],
    ("STB120", "jax"): ["jnp.exp(jax.scipy.special.gammaln(jnp.abs(x) + 1)) / jnp.exp(jax.scipy.special.gammaln(jnp.abs(z) + 1))"],
    ("STB122", "tf"): ["tf.exp(x) / tf.square(1 + tf.exp(x))", "tf.exp(-x) / (1.0 + tf.exp(-x)) ** 2"],
    ("STB122", "jax"): ["jnp.exp(x) / (1 + jnp.exp(x)) ** 2", "jnp.exp(-x) / jnp.square(1.0 + jnp.exp(-x))"],
    ("STB123", "tf"): ["tf.sqrt(1.0 + tf.abs((tf.tanh(x) / 1e5))) - 1.0", "tf.sqrt(tf.abs((tf.tanh(x) / 1e5)) + 1) - 1"],
    ("STB123", "jax"): ["jnp.sqrt(jnp.abs((jnp.tanh(x) / 1e5)) + 1) - 1", "jnp.sqrt(1.0 + (jnp.tanh(x) / 1e5) ** 2) - 1.0"],
    ("STB206", "tf"): ["tf.maximum(tf.sqrt(tf.math.reduce_variance(x, axis=0)), 1e-3)"],
    ("STB206", "jax"): ["jnp.maximum(jnp.sqrt(jnp.var(x, axis=0)), 1e-3)", "jnp.maximum(jnp.std(x, axis=1), 1e-3)"],
})
# Rows with more rows than columns: the normal equations need a full-rank X (4 x 3 here).
TALL = {"STB603"}

CASES = [
    pytest.param(code, framework, id=f"{code}-{framework}")
    for code, framework in SPELLINGS
    if code in {rule.code for rule in ALL_RULES}
]


def inputs(framework: str, code: str = "") -> dict:
    """Moderate values: every spelling's original is finite on them, so any difference
    between the original and the fix is the fix's."""
    if framework in ("tf", "jax", "keras"):
        generator = np.random.default_rng(0)
        shape = (4, 3) if code in TALL else (3, 4)
        values = {"x": generator.normal(size=shape) * 2, "z": generator.normal(size=shape) * 2}
        return {name: _tensor(framework, array) for name, array in values.items()}
    if framework == "torch":
        generator = torch.Generator().manual_seed(0)
        return {
            "x": torch.randn(3, 4, dtype=torch.float64, generator=generator) * 2,
            "z": torch.randn(3, 4, dtype=torch.float64, generator=generator) * 2,
        }
    if framework == "numpy":
        generator = np.random.default_rng(0)
        return {"x": generator.normal(size=(3, 4)) * 2, "z": generator.normal(size=(3, 4)) * 2}
    return {"s": 0.37}


def _tensor(framework: str, values):
    if framework == "tf":
        import tensorflow as tf

        return tf.constant(values)  # float64: TensorFlow computes in the input's dtype
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values, dtype=jnp.float32)  # JAX's default (x64 off)
    import keras

    return keras.ops.convert_to_tensor(values, dtype="float32")


# In float64 (NumPy, math) only log-probabilities reach exp's limits (analysis.magnitudes):
# those rules' spellings read inputs named as log-probabilities there.
FLOAT64_EXP_LIMITS = {"STB101", "STB102", "STB103", "STB104", "STB108", "STB109", "STB110", "STB111", "STB112",
                      "STB113", "STB116", "STB121", "STB122"}
LOG_PROBABILITY_NAMES = {"x": "log_p", "z": "log_q", "s": "log_p"}


def named_as_log_probabilities(framework: str, code: str, expressions: list[str]) -> list[str]:
    if framework not in ("numpy", "math") or code not in FLOAT64_EXP_LIMITS:
        return expressions
    pattern = re.compile(r"\b(" + "|".join(LOG_PROBABILITY_NAMES) + r")\b")
    return [pattern.sub(lambda match: LOG_PROBABILITY_NAMES[match.group(1)], text) for text in expressions]


def module_of(framework: str, expressions: list[str]) -> str:
    lines = [f"r{index} = {expression}" for index, expression in enumerate(expressions)]
    return IMPORTS_BY_FRAMEWORK[framework] + "\n" + "\n".join(lines) + "\n"


def assignments(source: str) -> tuple[str, dict[str, str]]:
    """The module's import lines, and the expression assigned to each ``rN``."""
    tree = ast.parse(source)
    imports = "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))
    assigned = {
        node.targets[0].id: ast.get_source_segment(source, node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    return imports, assigned


def evaluate(imports: str, expression: str, framework: str, code: str = "", trace: bool = False):
    """The expression's value on ``inputs``; with ``trace``, computed inside a function that
    tf.function (TensorFlow, Keras on TensorFlow) or jax.jit traces."""
    namespace = {}
    values = inputs(framework, code)
    values.update({alias: values[name] for name, alias in LOG_PROBABILITY_NAMES.items() if name in values})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # F.softmax without dim says it is deprecated
        exec(imports, namespace)
        if not trace:
            return eval(expression, {**namespace, **values})
        exec(f"def program(x, z):\n    return {expression}\n", namespace)
        if framework == "jax":
            import jax

            return jax.jit(namespace["program"])(values["x"], values["z"])
        import tensorflow as tf

        return tf.function(namespace["program"])(values["x"], values["z"])


# Fixes that turn a NaN of the original into a number (RANUM's clip of a sqrt argument at
# 0): they must agree with the original wherever it is defined.
REPAIRS_NAN = {"STB404"}


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def same_result(original, fixed, nan_repaired: bool = False) -> str | None:
    """None when the two agree in type, shape, dtype and value (float32's rounding for
    float32 results); else what differs. ``nan_repaired``: only where the original is not
    NaN."""
    if isinstance(original, float) or isinstance(fixed, float):
        if not isinstance(fixed, float) or not math.isclose(original, fixed, rel_tol=1e-9, abs_tol=1e-12):
            return f"{original!r} != {fixed!r}"
        return None
    if type(original) is not type(fixed):
        return f"type {type(original).__name__} became {type(fixed).__name__}"
    if tuple(original.shape) != tuple(fixed.shape):
        return f"shape {tuple(original.shape)} became {tuple(fixed.shape)}"
    if original.dtype != fixed.dtype:
        return f"dtype {original.dtype} became {fixed.dtype}"
    before, after = _numpy(original).astype(np.float64), _numpy(fixed).astype(np.float64)
    if nan_repaired:
        defined = ~np.isnan(before)
        before, after = before[defined], after[defined]
    single = _numpy(original).dtype == np.float32
    close = np.allclose(before, after, rtol=2e-5 if single else 1e-6, atol=1e-6 if single else 1e-9, equal_nan=True)
    return None if close else f"values differ: {before} vs {after}"


@dataclass
class Tally:
    """One table's spellings: how many ran, how many the fix rewrote, how many it left
    alone, and what broke."""

    tried: int = 0
    fixed: int = 0
    unfixed: int = 0
    problems: list = field(default_factory=list)


def run_spellings(code: str, framework: str, trace: bool = False) -> Tally:
    """Fix every spelling of the table, run each original and fix (traced with ``trace``)."""
    expressions = named_as_log_probabilities(framework, code, SPELLINGS[(code, framework)])
    source = module_of(framework, expressions)
    fixed = fix_source(source, "spellings.py", unsafe=True, keep=lambda text, found: [
        diagnostic for diagnostic in found if diagnostic.code == code
    ]).source
    imports, before = assignments(source)
    fixed_imports, after = assignments(fixed)
    tally = Tally()
    for name, expression in before.items():
        try:
            original = evaluate(imports, expression, framework, code, trace)
        except Exception:  # noqa: BLE001 - not a legal spelling after all: the fix owes nothing
            continue
        tally.tried += 1
        if after[name] == expression:
            tally.unfixed += 1
            continue
        tally.fixed += 1
        try:
            result = evaluate(fixed_imports, after[name], framework, code, trace)
        except Exception as error:  # noqa: BLE001
            tally.problems.append(f"{expression}  ->  {after[name]}  raises {type(error).__name__}: {error}")
            continue
        difference = same_result(original, result, nan_repaired=code in REPAIRS_NAN)
        if difference:
            tally.problems.append(f"{expression}  ->  {after[name]}: {difference}")
    return tally


@pytest.mark.parametrize(("code", "framework"), CASES)
def test_every_fixed_spelling_runs_and_agrees(code, framework):
    pytest.importorskip({"tf": "tensorflow", "keras": "keras", "jax": "jax"}.get(framework, "math"))
    for trace in (False, True) if framework in TRACED else (False,):
        tally = run_spellings(code, framework, trace)
        assert not tally.problems, f"traced={trace}\n" + "\n".join(tally.problems)
        assert tally.fixed, f"no spelling of {code} in {framework} got a fix: the table no longer exercises it"


def _keras_program(expression: str, code: str) -> dict:
    values = {name: np.asarray(tensor).tolist() for name, tensor in inputs("tf", code).items()}
    return {"code": f"_result = {expression}", "output": "_result", "variables": ["x", "z"],
            "imports": IMPORTS_BY_FRAMEWORK["keras"], "inputs": [values["x"], values["z"]], "dtype": "float32"}


def keras_backend_tallies(backend: str) -> dict[str, Tally]:
    """Every Keras spelling and its fix run on ``backend`` (a subprocess), eager and traced
    (jax.jit on JAX; the torch backend traces nothing here): a tally per rule."""
    from keras_backends import run_on_backend

    pairs = []
    for (code, framework), expressions in SPELLINGS.items():
        if framework != "keras":
            continue
        source = module_of("keras", expressions)
        fixed = fix_source(source, "spellings.py", unsafe=True, keep=lambda text, found, code=code: [
            diagnostic for diagnostic in found if diagnostic.code == code
        ]).source
        _, before = assignments(source)
        _, after = assignments(fixed)
        pairs += [(code, before[name], after[name]) for name in before]
    programs = [program for code, old, new in pairs for program in (_keras_program(old, code), _keras_program(new, code))]
    results = run_on_backend(backend, programs)
    tallies: dict[str, Tally] = {}
    for index, (code, old, new) in enumerate(pairs):
        tally = tallies.setdefault(code, Tally())
        before, after = results[2 * index], results[2 * index + 1]
        for mode, original in before.items():
            if "error" in original:
                continue
            tally.tried += 1
            if old == new:
                tally.unfixed += 1
                continue
            tally.fixed += 1
            result = after.get(mode, {"error": "not run"})
            if "error" in result:
                tally.problems.append(f"{mode}: {old} -> {new} raises {result['error']}")
                continue
            for key in ("type", "dtype", "shape"):
                if result[key] != original[key]:
                    tally.problems.append(f"{mode}: {old} -> {new}: {key} {original[key]} became {result[key]}")
            first, second = np.array(original["values"], dtype=float), np.array(result["values"], dtype=float)
            if first.shape == second.shape:
                keep = ~np.isnan(first) if code in REPAIRS_NAN else np.ones(first.shape, bool)
                if not np.allclose(first[keep], second[keep], rtol=2e-5, atol=1e-6, equal_nan=True):
                    tally.problems.append(f"{mode}: {old} -> {new}: values differ: {first} vs {second}")
    return tallies


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_keras_spelling_runs_on_the_other_backends(backend):
    pytest.importorskip("keras")
    pytest.importorskip(backend)
    tallies = keras_backend_tallies(backend)
    problems = [f"{code} {problem}" for code, tally in tallies.items() for problem in tally.problems]
    assert not problems, "\n".join(problems)
    assert all(tally.fixed for tally in tallies.values()), {code: tally.fixed for code, tally in tallies.items()}


# Fixes that change the value by design (an eps or a mask float16 holds, isnan for ==) have
# no spelling to agree with: test_precision_numerics.py runs them.
CHANGES_VALUES = ("STB501", "STB502", "STB503")


def test_every_rule_with_an_executable_fix_has_spellings():
    missing = sorted(
        {
            (rule.code, example.framework)
            for rule in ALL_RULES
            for example in rule.invalid
            if example.fixed is not None and example.framework in EXECUTABLE and rule.code not in CHANGES_VALUES
        }
        - set(SPELLINGS)
    )
    assert not missing, f"add the legal spellings of these fixes to SPELLINGS: {missing}"


def test_the_none_dims_of_pytorch_144339_get_a_fix_that_runs():
    source = module_of("torch", [
        "torch.log(torch.sum(torch.exp(x), None))",
        "torch.log(torch.sum(torch.exp(x), dim=None, keepdim=False))",
        "torch.exp(x).sum(None).log()",
        "torch.exp(x).sum(dim=None).log()",
    ])
    imports, after = assignments(fix_source(source, "issue.py").source)
    for expression in after.values():
        assert "logsumexp" in expression and "None" not in expression
        expected = torch.logsumexp(inputs("torch")["x"].flatten(), 0)
        assert torch.allclose(evaluate(imports, expression, "torch"), expected)
