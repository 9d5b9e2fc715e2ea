"""The probability of an outcome the code drew from the same distribution is not 0.

A policy-gradient loss takes ``log(pi[a])`` (``pi.gather(1, a)``, ``probs[0, self.a]``) of the
action ``a`` the agent sampled from that policy during the rollout (``Categorical(pi).sample()``,
``np.random.choice(n, p=pi)``, ``pi.multinomial(1)``): an action whose probability had rounded
to 0 is drawn with probability 0, and PPO/A2C/TRPO move the policy only a little between
sampling and update. ``log(softmax)`` over all actions (an entropy, a KL) is not such a value:
every action's probability enters there, the smallest too.

``sampled_outcome_probability`` says that an indexed probability is one of these: the index is
named as an action (``a``, ``action``, ``actions``, ``self.a``, ``a_batch`` …, through
``.long()``/``.unsqueeze(1)``/``.view(-1, 1)``), and the module draws outcomes from a
categorical distribution somewhere. An index named otherwise (labels, targets, expert
actions) is a class the model may rule out: not covered.
"""

from __future__ import annotations

import ast
import re
from weakref import WeakKeyDictionary

from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.ir import identifier_of

_ACTION_NAME = re.compile(
    r"(?:a|act|acts|action|actions|a_t|at|a_batch|act_batch|action_batch|actions_batch|batch_action"
    r"|batch_actions|b_a|ba|a_lst|a_list|actions_taken|taken_actions|action_taken|sampled_actions"
    r"|sampled_action|action_idx|action_index|action_indices|actions_idx|a_his|a_hist)"
)
# Calls that draw a categorical outcome: ``dist.sample()``, ``torch.multinomial``,
# ``np.random.choice(n, p=probs)``, ``tf.random.categorical``, ``tf.multinomial``.
_DRAWS = frozenset({"sample", "multinomial", "categorical", "choice", "random_choice"})
# Methods through which an index stays the same actions (a cast, a reshape).
_SAME_INDEX = frozenset({"long", "int", "unsqueeze", "view", "reshape", "squeeze", "type", "to", "flatten",
                         "astype", "detach", "cpu", "expand_as", "expand"})

_DRAWING_MODULES: WeakKeyDictionary = WeakKeyDictionary()


def sampled_outcome_probability(tree: ast.Module, indexed: Value | None) -> bool:
    """Is ``indexed`` (a probability vector's element) the probability of an action the code
    samples from a categorical distribution (module doc)?"""
    if indexed is None or indexed.kind != v.INDEX or not draws_outcomes(tree):
        return False
    index = _index_expression(indexed.node)
    return index is not None and any(_names_an_action(part) for part in _parts(index))


def draws_outcomes(tree: ast.Module) -> bool:
    """Does the module draw from a categorical distribution anywhere?"""
    if tree not in _DRAWING_MODULES:
        _DRAWING_MODULES[tree] = any(
            isinstance(node, ast.Call) and identifier_of(node.func) in _DRAWS and _draws(node)
            for node in ast.walk(tree)
        )
    return _DRAWING_MODULES[tree]


def _draws(call: ast.Call) -> bool:
    """``choice`` draws a weighted outcome only with ``p=``; the others always do."""
    if identifier_of(call.func) in ("choice", "random_choice"):
        return any(keyword.arg == "p" for keyword in call.keywords)
    return True


def _index_expression(node: ast.AST | None) -> ast.expr | None:
    """The index of ``p[..., i]``, ``p.gather(dim, i)``, ``gather(p, i)``, ``take_along_axis(p, i, axis)``."""
    if isinstance(node, ast.Subscript):
        return node.slice
    if isinstance(node, ast.Call):
        keyword = next((keyword.value for keyword in node.keywords if keyword.arg in ("index", "indices")), None)
        if keyword is not None:
            return keyword
        if identifier_of(node.func) in ("gather", "take_along_axis", "gather_nd") and len(node.args) >= 2:
            return node.args[1]  # p.gather(dim, i), tf.gather(p, i), np.take_along_axis(p, i, axis)
    return None


def _parts(index: ast.expr) -> list[ast.expr]:
    """The elements of a tuple index (``[0, a]``, ``[range(n), a]``), or the index itself."""
    return list(index.elts) if isinstance(index, ast.Tuple) else [index]


def _names_an_action(expr: ast.expr) -> bool:
    """``a``, ``self.action``, ``actions.long().unsqueeze(1)``, ``a[:, None]``."""
    for _ in range(6):
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _SAME_INDEX:
            expr = expr.func.value
        elif isinstance(expr, ast.Subscript):
            expr = expr.value
        else:
            break
    named = identifier_of(expr).lower() if isinstance(expr, (ast.Name, ast.Attribute)) else ""
    return _ACTION_NAME.fullmatch(named) is not None
