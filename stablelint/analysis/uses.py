"""How the result of an expression is used: whether its last digits can reach anything.

A precision loss matters only where the digits reach a result. They do not when the value
is rounded right after (``int(...)``, ``round(...)``, ``floor``, ``.long()``, ``astype(int)``),
nor when it is only compared with a threshold that is not 0 (``(ratio - 1).abs() > clip``:
a few units in the last place change the comparison only at the threshold itself), nor when
it is added to a term computed from other inputs: ``log(1 + x)`` and ``exp(x) - 1`` written
out are off by about one unit in the last place of 1 (an absolute error), which a sum with a
term that does not cancel against it keeps absolute (``mean(1 - exp(d_real)) - mean(g(d_fake))``
is right to ~1e-7 with or without ``expm1``). A term sharing an input may cancel against it
(``(ratio - 1) - logratio``): the digits reach the result there.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from stablelint.analysis.conditions import path_to
from stablelint.ir import identifier_of
from stablelint.syntax import child_nodes, statements, walk

_ROUNDING = frozenset({"int", "round", "floor", "ceil", "trunc", "rint", "around", "long", "short"})
_INTEGER_DTYPES = ("int", "long", "uint", "bool")
_SAME_DIGITS = frozenset({"abs", "absolute", "fabs", "float", "item", "detach", "squeeze", "flatten", "reshape",
                          "view", "cpu"})
# Operations that keep an absolute error of the result small next to a sum's other term.
_SCALING = frozenset({"mean", "sum", "reduce_mean", "reduce_sum", "nanmean", "nansum"})


def digits_reach_result(root: ast.AST, node: ast.AST, inputs: tuple[ast.AST, ...] = ()) -> bool:
    """False when ``node``'s value is rounded, only compared with a non-zero threshold, or
    added to a term that reads none of its inputs right after (through ``abs``, a sign, a
    scale, a mean); True otherwise. ``inputs``: expressions ``node`` is computed from
    beyond its own text (``logratio`` of ``ratio = exp(logratio)``)."""
    read = _through_definitions(root, set().union(_names(node), *(_names(expr) for expr in inputs)))
    path = path_to(root, node)
    if path is None:
        return True
    child = node
    for parent in reversed(path[:-1]):
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, (ast.USub, ast.UAdd)):
            child = parent
            continue
        if isinstance(parent, ast.Call):
            name = identifier_of(parent.func)
            receiver = parent.func.value if isinstance(parent.func, ast.Attribute) else None
            on_child = receiver is child or (parent.args and parent.args[0] is child)
            if not on_child:
                return True
            if name in _ROUNDING or _casts_to_integer(parent, name):
                return False
            if name in _SAME_DIGITS or name in _SCALING:
                child = parent
                continue
            return True
        if isinstance(parent, ast.Attribute):
            continue  # ``x.abs`` of ``x.abs()``: the call above decides
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Mult, ast.Div)):
            factor = parent.right if parent.left is child else parent.left
            if not _is_number(factor):
                return True  # scaled by a factor that may be large: its absolute error may not be small
            child = parent  # scaled by a constant: the absolute error stays small
            continue
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)):
            other = parent.right if parent.left is child else parent.left
            others = _through_definitions(root, _names(other))
            if others and not others & read:
                return False  # swamped: added to a term from other inputs, which does not cancel it
            if not others and not _is_zero(other) and not _logged(path, parent):
                return False  # swamped by a constant (``-log(pi) - log(1 + x**2)``)
            # a constant the sum then goes into a log with (``log(1 + (exp(x) - 1))``): log1p's case
            return True
        if isinstance(parent, ast.Compare) and len(parent.ops) == 1:
            other = parent.comparators[0] if parent.left is child else parent.left
            return _is_zero(other)
        return True
    return True


def _casts_to_integer(call: ast.Call, name: str) -> bool:
    if name not in ("astype", "to", "type", "cast"):
        return False
    for argument in list(call.args) + [keyword.value for keyword in call.keywords]:
        said = identifier_of(argument) if isinstance(argument, (ast.Name, ast.Attribute)) else (
            argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else ""
        )
        if said.startswith(_INTEGER_DTYPES) or said in ("int", "bool"):
            return True
    return False


def _is_number(expr: ast.expr) -> bool:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        expr = expr.operand
    return isinstance(expr, ast.Constant) and type(expr.value) in (int, float)


def _is_zero(expr: ast.expr) -> bool:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        expr = expr.operand
    return isinstance(expr, ast.Constant) and expr.value == 0


_LOGS = frozenset({"log", "log1p", "log2", "log10"})


def _through_definitions(root: ast.AST, names: set[str], depth: int = 3) -> set[str]:
    """``names`` and the names their assignments in ``root`` read (``y = log(softmax(x))``:
    y reads x), a few assignments deep: a term computed from x shares x's input."""
    found = set(names)
    frontier = set(names)
    assignments = _assignments(root)
    for _ in range(depth):
        more: set[str] = set()
        for name in frontier:
            for assignment in assignments.get(name, ()):
                more |= assignment.read() - found
        if not more:
            break
        found |= more
        frontier = more
    return found


class _Assignment:
    """An assignment's bound names, and (once asked) the names its value reads."""

    __slots__ = ("bound", "value", "_read")

    def __init__(self, bound: set[str], value: ast.expr):
        self.bound = bound
        self.value = value
        self._read: set[str] | None = None

    def read(self) -> set[str]:
        if self._read is None:
            self._read = _names(self.value)
        return self._read


# Per function (or module): its assignments by the names they bind, found once; a file
# with many findings asks again for each.
_ASSIGNMENTS: WeakKeyDictionary[ast.AST, dict[str, list[_Assignment]]] = WeakKeyDictionary()


def _assignments(root: ast.AST) -> dict[str, list[_Assignment]]:
    found = _ASSIGNMENTS.get(root)
    if found is None:
        found = {}
        for statement in statements(root):
            if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and statement.value is not None:
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                bound = {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}
                assignment = _Assignment(bound, statement.value)
                for name in bound:
                    found.setdefault(name, []).append(assignment)
        _ASSIGNMENTS[root] = found
    return found


def _logged(path: list[ast.AST], node: ast.AST) -> bool:
    """Is ``node`` (on ``path``) the argument, or the receiver, of a log call?"""
    index = next((i for i, step in enumerate(path) if step is node), None)
    if not index:
        return False
    above = path[index - 1]
    if isinstance(above, ast.Attribute) and index >= 2:
        above = path[index - 2]
    return isinstance(above, ast.Call) and identifier_of(above.func) in _LOGS


def _names(expr: ast.AST) -> set[str]:
    """The inputs an expression reads: its names and ``self.attr``-style chains, without the
    modules that spell its functions (``torch``, ``np`` …) and without the functions' names."""
    found: set[str] = set()
    called = {id(node.func) for node in ast.walk(expr) if isinstance(node, ast.Call)}
    inside_chain: set[int] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute) and id(node) not in inside_chain:
            chain, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                inside_chain.add(id(inner))
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name):
                inside_chain.add(id(inner))
                dotted = [inner.id] + chain[::-1]
                if id(node) in called:
                    dotted = dotted[:-1]  # ``x.clamp(...)`` reads x, ``self.fc(h)`` reads self
                if dotted and inner.id not in _MODULES:
                    found.add(".".join(dotted))
        elif isinstance(node, ast.Name) and id(node) not in inside_chain and id(node) not in called:
            if node.id not in _MODULES:
                found.add(node.id)
    return found


_MODULES = frozenset({"torch", "np", "numpy", "jnp", "jax", "tf", "math", "F", "nn", "scipy", "keras", "K", "ops"})


# Samplers that take logits: a -inf logit is a valid zero probability there, no gradient flows.
_SAMPLERS = frozenset({"multinomial", "categorical", "Categorical", "OneHotCategorical", "RelaxedOneHotCategorical"})


def only_sampled(root: ast.AST, node: ast.AST) -> bool:
    """Is ``node``'s value only handed to a sampler as logits (``tf.multinomial(log_p, 1)``,
    ``jax.random.categorical(key, log_p)``, ``Categorical(logits=log_p)``), directly or
    through the one name it is assigned to?"""
    path = path_to(root, node)
    if path is None or len(path) < 2:
        return False
    parent = path[-2]
    if isinstance(parent, ast.keyword) and len(path) >= 3 and isinstance(path[-3], ast.Call):
        return parent.arg == "logits" and identifier_of(path[-3].func) in _SAMPLERS
    scope = next((step for step in reversed(path) if isinstance(step, (ast.FunctionDef, ast.AsyncFunctionDef))), root)
    return _only_used_so(scope, parent, node, _samples)


def _only_used_so(scope: ast.AST, parent: ast.AST, node: ast.AST, use) -> bool:
    """Is ``node`` (held by ``parent``) used only as ``use(holder, expression)`` accepts: there,
    or through the one name it is assigned to, every read of which under ``scope`` is?"""
    if not (isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)):
        return use(parent, node)
    loads = reads_in(scope).get(parent.targets[0].id, [])
    return bool(loads) and all(use(holder, load) for load, holder in loads)


# Per function (or module): each name's reads with the node holding them, found in one walk
# (a function with many findings asks again for each).
_READS: WeakKeyDictionary[ast.AST, dict[str, list[tuple[ast.Name, ast.AST]]]] = WeakKeyDictionary()


def reads_in(scope: ast.AST) -> dict[str, list[tuple[ast.Name, ast.AST]]]:
    """The ``Name`` nodes that read each name under ``scope``, in ``ast.walk``'s order, each
    with the node that holds it."""
    reads = _READS.get(scope)
    if reads is None:
        reads = {}
        for outer in walk(scope):
            for child in child_nodes(outer):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                    reads.setdefault(child.id, []).append((child, outer))
        _READS[scope] = reads
    return reads


def _samples(call: ast.AST, argument: ast.AST) -> bool:
    if not isinstance(call, ast.Call):
        return False
    name = identifier_of(call.func)
    if name not in _SAMPLERS:
        return False
    if any(keyword.arg == "logits" and keyword.value is argument for keyword in call.keywords):
        return True
    # tf.multinomial(logits, n), tf.random.categorical(logits, n), jax.random.categorical(key, logits)
    return any(given is argument for given in call.args[:2])


def overwritten_unread(function: ast.AST, node: ast.AST) -> bool:
    """Is ``node``'s value assigned to a name that a later statement of the same function body
    binds again before anything reads it (``log_p = log(p)`` replaced two lines below by
    ``log_p = log(p + eps)``)? Then the value reaches nothing. Only the function's own
    statement list is read, in order: a statement that reads the name (nested code included)
    keeps the value; a branch or loop that does not read it is passed over, since a binding
    inside it may not run."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    path = path_to(function, node)
    if path is None or len(path) < 3:
        return False
    statement = next((step for step in path[1:] if isinstance(step, ast.stmt)), None)
    if statement is None:
        return False
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):
        return False
    name = statement.targets[0].id
    body = _body_names(function)
    if name in body.declared:
        return False
    position = body.position.get(id(statement))
    if position is None:
        return False
    # The first later statement that reads the name keeps the value (a statement that both
    # reads and binds it reads first); else the first that binds it again decides.
    reads, binds = body.reads.get(name, ()), body.binds.get(name, ())
    next_read = reads[bisect_right(reads, position)] if reads and reads[-1] > position else None
    next_bind = binds[bisect_right(binds, position)] if binds and binds[-1] > position else None
    if next_bind is None or (next_read is not None and next_read <= next_bind):
        return False
    return function.body[next_bind].value is not None


@dataclass(frozen=True, slots=True)
class _BodyNames:
    """A function body's names: those it declares global or nonlocal; for each name, the
    positions (in the body's statement list, ascending) of the statements that read it
    (nested code included) and of the assignments that bind it by name."""

    declared: set[str]
    reads: dict[str, list[int]]
    binds: dict[str, list[int]]
    position: dict[int, int]  # id of a body statement -> its position


# Found in one walk per function for all its findings: a function of n findings asked n times.
_BODY_NAMES: WeakKeyDictionary[ast.AST, _BodyNames] = WeakKeyDictionary()


def _body_names(function: ast.AST) -> _BodyNames:
    names = _BODY_NAMES.get(function)
    if names is None:
        declared = {name for inner in ast.walk(function) if isinstance(inner, (ast.Global, ast.Nonlocal))
                    for name in inner.names}
        reads: dict[str, list[int]] = {}
        binds: dict[str, list[int]] = {}
        for position, statement in enumerate(function.body):
            for name in {inner.id for inner in ast.walk(statement) if isinstance(inner, ast.Name)
                         and isinstance(inner.ctx, ast.Load)}:
                reads.setdefault(name, []).append(position)
            if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                for name in {target.id for target in (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                ) if isinstance(target, ast.Name)}:
                    binds.setdefault(name, []).append(position)
        position_of = {id(statement): position for position, statement in enumerate(function.body)}
        names = _BODY_NAMES[function] = _BodyNames(declared, reads, binds, position_of)
    return names


def only_logged(function: ast.AST, node: ast.AST) -> bool:
    """Is ``node``'s value only the argument of a ``log``: written inside it
    (``log(clip(d, 1e-25, 1 - 1e-25))``), or assigned to a name of ``function`` whose every
    read is (``out = clip(p, 1e-8, 1 - 1e-8)`` then ``log(out)`` only)? An upper bound next
    to 1 protects nothing there: log(1) is 0."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return False
    path = path_to(function, node)
    if path is None or len(path) < 2:
        return False
    return _only_used_so(function, path[-2], node, _logs)


def _logs(holder: ast.AST, argument: ast.AST) -> bool:
    return isinstance(holder, ast.Call) and identifier_of(holder.func) == "log" and holder.args == [argument]
