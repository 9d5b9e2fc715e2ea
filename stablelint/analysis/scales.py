"""Scales: where a value is used as a standard deviation, a zero is the hazard.

``softplus(rho)`` written as ``log(1 + exp(rho))`` fails two ways: ``exp`` overflows past 88.7
in float32, and ``1 + exp(rho)`` rounds to 1 below about -17, so the result is exactly 0 where
softplus is ``exp(rho)``. Which one matters depends on the use. A loss term loses nothing of
note when it is 0 instead of 2e-9; a standard deviation of 0 makes ``log(sigma)`` -inf and
``x / sigma`` inf, and collapses a posterior (Bayes by backprop keeps ``sigma = log(1 +
exp(rho))`` with ``rho`` initialised near -5 and pushed lower), while a scale past 88 is
no magnitude such a parameter reaches.

A value is used as a scale where the code says so:

- it is bound to a name or attribute that names a spread: ``sigma``, ``std``, ``stddev``,
  ``scale``, ``sd`` (``w_sigma``, ``self.sigma``, ``posterior_std``);
- it is passed as the ``scale`` (or ``stddev``, ``sigma``, ``std``) of a call, or as the
  second argument of a distribution with a scale (``Normal(mu, sigma)``, ``LogNormal``,
  ``Laplace``, ``Cauchy``, ``HalfNormal`` takes it first).
"""

from __future__ import annotations

import ast
import re

from stablelint.analysis.conditions import path_to
from stablelint.ir import identifier_of

# A name that holds a spread (matched on the last part of a name or attribute, lowercased).
_SCALE_NAME = re.compile(r"(?:\w*_)?(?:sigma|sigmas|std|stds|stddev|stdev|scale|scales|sd)(?:_\w*)?")
_SCALE_KEYWORDS = frozenset({"scale", "stddev", "sigma", "std", "scale_diag"})
# Distributions whose second positional argument is the scale.
_LOCATION_SCALE = frozenset({"Normal", "LogNormal", "Laplace", "Cauchy", "Gumbel", "MultivariateNormalDiag"})
_SCALE_ONLY = frozenset({"HalfNormal", "HalfCauchy"})


def used_as_scale(root: ast.AST, node: ast.AST) -> str | None:
    """How the value of ``node`` is used as a scale (a phrase), or None."""
    path = path_to(root, node)
    if path is None:
        return None
    child = node
    for parent in reversed(path[:-1]):
        if isinstance(parent, ast.keyword):
            return f"it is passed as {parent.arg}=" if parent.arg in _SCALE_KEYWORDS else None
        if isinstance(parent, ast.Call) and parent.func is not child:
            said = _scale_argument(parent, child)
            if said is not None:
                return said
            return None  # an argument of another call: the call's result is something else
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is child:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for target in targets:
                name = identifier_of(target)
                if name and _SCALE_NAME.fullmatch(name.lower()):
                    return f"it is the scale {name}"
            return None
        if isinstance(parent, ast.stmt):
            return None
        if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)):
            return None  # computed on: the result is another value
        child = parent
    return None


def _scale_argument(call: ast.Call, argument: ast.AST) -> str | None:
    callee = identifier_of(call.func)
    if callee in _LOCATION_SCALE and len(call.args) >= 2 and call.args[1] is argument:
        return f"it is the scale of {callee}"
    if callee in _SCALE_ONLY and call.args and call.args[0] is argument:
        return f"it is the scale of {callee}"
    return None
