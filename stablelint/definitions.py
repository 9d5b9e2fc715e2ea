"""Code that *is* a stable function: a fix must not rewrite it to call itself.

``def sigmoid(x): return 1 / (1 + jnp.exp(-x))`` is where a project (or a tutorial
demonstrating the trick) defines its sigmoid, and ``{lax.logistic_p: lambda a: 1 / (1 +
jnp.exp(-a))}`` is how JAX lowers its own ``logistic`` primitive: rewritten to
``jax.nn.sigmoid``, each calls itself. A fix whose stable function has the name of the
function or primitive the code defines is not offered.
"""

from __future__ import annotations

import ast

# Names of one function, across libraries.
_SAME = [
    {"sigmoid", "expit", "logistic"}, {"softplus", "log1pexp"}, {"log_sigmoid", "logsigmoid", "log_expit"},
    {"logsumexp", "reduce_logsumexp"}, {"softmax"}, {"log_softmax", "logsoftmax"}, {"log1p"}, {"expm1"},
    {"logaddexp"}, {"tanh"}, {"xlogy"}, {"entr", "entropy"}, {"var", "variance", "reduce_variance"},
    {"logcumsumexp", "cumulative_logsumexp"}, {"atan2", "arctan2"}, {"slogdet", "logdet"},
    {"vector_norm", "hypot"},
]
_GROUP = {name: frozenset(group) for group in _SAME for name in group}


def _plain(name: str) -> str:
    return name.strip("_").lower()


def stable_names_called(expression: ast.AST) -> set[str]:
    """The last names of the functions a fix's text calls (``jax.nn.sigmoid(a)`` → sigmoid),
    from its parsed expression."""
    names = set()
    for node in ast.walk(expression):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name is not None:
                names.add(_plain(name))
    return names


def same_function(name: str, called: set[str]) -> bool:
    plain = _plain(name)
    group = _GROUP.get(plain, frozenset({plain}))
    return bool(group & called)


def defined_names(node: ast.AST, parents: dict[int, ast.AST]):
    """The names of what the code around ``node`` defines: each enclosing function, and a
    lambda's primitive in a lowering table (``{lax.logistic_p: lambda a: ...}``,
    ``register_lowering(logistic_p, lambda ...)``), ``_p`` dropped."""
    child, current = node, parents.get(id(node))
    while current is not None:
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield current.name
        elif isinstance(child, ast.Lambda) and isinstance(current, ast.Dict):
            for key, value in zip(current.keys, current.values):
                if value is child and key is not None:
                    yield from _primitive(key)
        elif isinstance(child, ast.Lambda) and isinstance(current, ast.Call):
            for argument in current.args:
                yield from _primitive(argument)
        child, current = current, parents.get(id(current))


def _primitive(expr: ast.expr):
    name = expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""
    if name.endswith("_p"):
        yield name[:-2]
