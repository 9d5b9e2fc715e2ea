"""The abstract interpreter: the ``Value`` of an expression at a point of the walk.

Values are computed on demand (only for what a rule asks about), memoized per scope
state, with a bounded depth. Inside the scope being walked, names follow the walker's
flow-sensitive definitions; from there, values reach further through file summaries
(``summaries.py``): ``self.<attr>`` set in another method, a module object built in
``__init__``/``setup``/``build``, a function of the file whose return is known, a
parameter that every call site in the file passes the same kind of value, a module-level
constant. A value from further away is marked non-local: rules report it, saying where
it came from, but do not rewrite code they cannot see at the use.
"""

from __future__ import annotations

import ast
import math
import struct
from dataclasses import replace
from functools import partial
from weakref import WeakKeyDictionary

from stablelint import frameworks
from stablelint.analysis import constants, initial, shapes, shifts, stax
from stablelint.analysis import values as v
from stablelint.analysis.autocast import FLOAT32 as AUTOCAST_FLOAT32
from stablelint.analysis.autocast import LOWER as AUTOCAST_LOWER
from stablelint.analysis.autocast import OFF, Autocast
from stablelint.analysis.summaries import PARAMETER, FileFacts, FunctionFacts, last_appended
from stablelint.analysis.values import UNKNOWN_VALUE, ModuleSpec, Value
from stablelint.ir import Normalizer, identifier_of
from stablelint.scopes import BranchJoin, LoopElement, argument_for, parameters
from stablelint.syntax import reference

_MAX_DEPTH = 24
_OPERATORS = {
    ast.Add: v.ADD, ast.Sub: v.SUB, ast.Mult: v.MUL, ast.Div: v.DIV, ast.Pow: v.POW,
    ast.FloorDiv: v.FLOORDIV, ast.Mod: v.MOD, ast.MatMult: "matmul",
}
# Calls whose result is a whole number whatever their argument.
_INTEGER_CALLS = frozenset({
    "len", "int", "numel", "nelement", "dim", "ndim", "count_nonzero", "bincount", "argmax", "argmin",
    "floor", "ceil", "round", "trunc", "randint", "randint_like", "argsort", "searchsorted", "prod_shape",
    "long", "nonzero", "histc", "factorial", "comb", "perm", "gcd", "lcm", "isqrt",
})
# Calls whose result is whole when their inputs are (casts, reductions, shape ops).
_INTEGER_PRESERVING = frozenset({
    "float", "double", "half", "to", "type", "astype", "cast", "sum", "cumsum", "max", "min", "amax", "amin",
    "abs", "clone", "copy", "tensor", "as_tensor", "asarray", "array", "convert_to_tensor", "constant",
    "reshape", "view", "squeeze", "unsqueeze", "expand_dims", "flatten", "maximum", "minimum", "clip",
    "clamp", "item", "detach", "cpu", "numpy", "square", "prod", "cumprod", "stack", "concatenate", "cat",
})
_INTEGER_DTYPES = frozenset({
    "int", "long", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "short", "bool",
})
# Calls whose arguments are whole numbers make whole numbers: ``arange(n)``, ``range(n)``.
_RANGE_CALLS = frozenset({"arange", "range"})
_ONES_LIKE = frozenset({"ones_like"})
_MAGNITUDE = frozenset({"abs", "absolute", "fabs"})
_FILLED = frozenset({"zeros", "ones", "zeros_like", "full", "full_like", "arange", "linspace"})


def qualified_module(imports, func: ast.expr, scope) -> bool:
    """``torch.zeros``/``np.arange``: a framework's function, not a method of some object."""
    qualified = imports.qualified_name(func, scope)
    return qualified is not None and qualified.split(".")[0] in ("torch", "numpy", "tensorflow", "jax", "keras")
_MODULE_MOVES = frozenset({"to", "cuda", "cpu", "train", "eval", "float", "double", "half", "requires_grad_"})
_SHAPE_OPS = frozenset({
    "view", "reshape", "squeeze", "unsqueeze", "expand_dims", "tile", "repeat", "broadcast_to", "expand",
    "expand_as", "flatten", "ravel", "transpose", "permute", "swapaxes", "moveaxis", "contiguous", "clone",
    "cuda", "cpu", "to",  # moved to a device: the same values (a cast to a dtype is read before this)
})
# Calls that cut their array operand into pieces (``mu, logvar = h.chunk(2, -1)``,
# ``tf.split(out, 2, axis=1)``): each piece holds some of its elements.
_SPLITS = frozenset({"chunk", "split", "tensor_split", "unbind", "array_split", "hsplit", "vsplit", "dsplit"})
_NONNEGATIVE_KINDS = frozenset({"softmax", "sigmoid", "exp", "softplus", "relu"})
# Calls that pick elements of their array operand: ``p.gather(1, y)``, ``take_along_axis(p, i, 1)``.
_GATHERS = frozenset({"gather", "take_along_axis", "take", "index_select", "gather_nd", "masked_select", "diagonal"})
_IDENTITY_ATTRIBUTES = frozenset({"data", "values"})
# Trainable weights: ``tf.Variable``, ``tf.get_variable``, ``nn.Parameter``, a Keras layer's
# ``self.add_weight``, Haiku's ``get_parameter``, Flax's ``self.param``. What they hold is
# where training starts, not a range; a matmul with one is an affine layer's output.
_WEIGHT_FUNCTIONS = frozenset({"Variable", "get_variable", "Parameter", "get_parameter"})
_WEIGHT_METHODS = frozenset({"add_weight", "param"})


def _dtype_is_integer(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value.rstrip("0123456789") in ("int", "uint", "bool") or expr.value in _INTEGER_DTYPES
    return identifier_of(expr) in _INTEGER_DTYPES


class RemoteScope:
    """A scope seen from outside the walk: its single-assignment names, and (for a call
    being summarized) the values its parameters receive."""

    remote = True

    def __init__(self, facts: FunctionFacts, function: ast.AST | None, owner: ast.ClassDef | None,
                 arguments: dict[str, Value] | None = None, imported: frozenset[str] = frozenset()):
        self.facts = facts
        self.function = function
        self.owner = owner
        self.arguments = arguments or {}
        self.imported = imported  # at module level: names the imports bind (``nn`` stays torch.nn)

    def definition(self, name: str) -> tuple[ast.expr, int] | None:
        return self.facts.definition(name)

    def is_local(self, name: str) -> bool:
        return self.facts.binds(name) and name not in self.imported


class Evaluator:
    def __init__(self, normalizer: Normalizer, tree: ast.Module, text, source: str | None = None):
        self.normalizer = normalizer
        self.imports = normalizer.imports
        self.tree = tree
        self.text = text  # node -> its source text, for messages
        self.source = source  # the file's text: cheap searches before walking the tree
        self._facts: FileFacts | None = None
        self._memo: dict[int, tuple[object, int, dict[int, tuple[ast.expr, Value]]]] = {}
        self._depth = 0
        self._active: set[int] = set()  # functions being summarized (recursion guard)
        self._scopes: dict[int, RemoteScope] = {}
        self._defining: set[int] = set()  # definitions being evaluated (``x = f(x)``)
        self._returned_exprs: dict[int, tuple[ast.AST, list[ast.expr | None]]] = {}  # function -> its returns
        self._truncated = 0  # how often the depth bound cut an evaluation short
        self.autocast = Autocast(tree, self.imports, source)
        self.project = None  # what this file sees of the other modules (``project.ProjectView``)

    @property
    def facts(self) -> FileFacts:
        if self._facts is None:
            self._facts = FileFacts.of(self.tree, self.source)
        return self._facts

    # -- the entry point

    def of(self, expr: ast.expr | None, scope) -> Value:
        if expr is None:
            return UNKNOWN_VALUE
        # Values are kept per scope and per state of it (``version``): once a binding moves
        # the state on, the values of the one before are never asked for again, and go.
        version = getattr(scope, "version", 0)
        memo = self._memo.get(id(scope))
        if memo is None or memo[0] is not scope or memo[1] != version:
            memo = self._memo[id(scope)] = (scope, version, {})  # keeps the scope alive: its id stays unique
        cached = memo[2].get(id(expr))
        if cached is not None:
            return cached[1]
        if self._depth >= _MAX_DEPTH:
            self._truncated += 1
            return Value(v.UNKNOWN, node=expr)
        truncated = self._truncated
        self._depth += 1
        try:
            value = self._evaluate(expr, scope)
        finally:
            self._depth -= 1
        if getattr(scope, "remote", False) and value.local:
            value = value.but(local=False)
        if self._truncated == truncated:
            # A value the depth bound cut short is not this expression's value: not kept.
            memo[2][id(expr)] = (expr, value)  # keeps the expression alive: its id stays unique
        return value

    def _evaluate(self, expr: ast.expr, scope) -> Value:
        kind = type(expr)
        if kind is ast.Constant:
            if type(expr.value) in (int, float) or type(expr.value) is bool:
                number = float(expr.value)
                return Value(v.CONST, node=expr, const=number, integer=number.is_integer())
            return Value(v.UNKNOWN, node=expr)
        if kind is ast.Name:
            return self._name(expr, scope)
        if kind is ast.BinOp:
            operator = _OPERATORS.get(type(expr.op))
            if operator is None:
                return Value(v.UNKNOWN, node=expr)
            left, right = self.of(expr.left, scope), self.of(expr.right, scope)
            return self._arithmetic(operator, (left, right), expr, None, None)
        if kind is ast.UnaryOp:
            operand = self.of(expr.operand, scope)
            if isinstance(expr.op, ast.USub):
                if operand.kind == v.CONST:
                    return Value(v.CONST, node=expr, const=-operand.const, integer=operand.integer)
                return Value(v.NEG, operand.framework, (operand,), expr, integer=operand.integer)
            if isinstance(expr.op, ast.UAdd):
                return operand
            return Value(v.UNKNOWN, node=expr)
        if kind is ast.Call:
            return self._call(expr, scope)
        if kind is ast.Attribute:
            return self._attribute(expr, scope)
        if kind in (ast.Tuple, ast.List):
            elements = tuple(self.of(element, scope) for element in expr.elts[:16])
            return Value(v.TUPLE, None, elements, expr)
        if kind is ast.Subscript:
            base = self.of(expr.value, scope)
            if base.kind == v.TUPLE and isinstance(expr.slice, ast.Constant) and type(expr.slice.value) is int:
                index = expr.slice.value
                if -len(base.operands) <= index < len(base.operands) and not (index < 0 and base.detail == stax.OPEN):
                    element = base.operands[index]
                    return replace(element, origin=element.origin or base.origin, local=element.local and base.local)
            if base.kind == v.ATTRIBUTE and base.detail == "shape":
                return Value(v.UNKNOWN, node=expr, integer=True)
            return Value(v.INDEX, base.framework, (base,), expr, integer=base.integer, detail=expr.value)
        if kind is LoopElement:
            # ``for dist in dists:``: an element of what the loop walks (no fix copies it).
            base = self.of(expr.value, scope)
            if not base.known or base.kind in (v.MODULE, v.TUPLE):
                return Value(v.UNKNOWN, node=expr, integer=base.integer)
            element = Value(v.INDEX, base.framework, (base,), expr, integer=base.integer, detail=expr.value)
            return element.remote(
                f"{expr.slice.id} is an element of {_short(self.text(expr.value))} (the loop on line {expr.lineno})"
            )
        if kind in (ast.GeneratorExp, ast.ListComp) and len(expr.generators) == 1:
            # ``sum(math.exp(s) for s in xs)``: the elements; the loop names must not hide others.
            targets = {node.id for node in ast.walk(expr.generators[0].target) if isinstance(node, ast.Name)}
            if not any(scope.is_local(name) or scope.definition(name) is not None for name in targets):
                element = self.of(expr.elt, scope)
                if element.known:
                    return Value(v.INDEX, element.framework, (element,), expr, detail=None)
            return Value(v.UNKNOWN, node=expr)
        if kind is ast.IfExp or kind is BranchJoin:
            holds = self._none_test(expr.test, scope)
            if holds is not None:  # ``act(h) if act is not None else h`` with act known at the call
                # The branch is chosen by what the calls pass: no fix may copy its code.
                chosen = self.of(expr.body if holds else expr.orelse, scope)
                said = "holds" if holds else "does not hold"
                return chosen.remote(f"`{_short(self.text(expr.test))}` {said} at every call")
        if kind is ast.IfExp:
            body, orelse = self.of(expr.body, scope), self.of(expr.orelse, scope)
            return _join(body, orelse, expr)
        if kind is BranchJoin:
            # Bound on both branches of an ``if``: what both give, never rewritten (which one?).
            body, orelse = self.of(expr.body, scope), self.of(expr.orelse, scope)
            joined = _join(body, orelse, expr)
            if not joined.known:
                return joined
            return joined.remote(f"both branches of the if on line {expr.lineno} give {_kind_said(joined)}")
        return Value(v.UNKNOWN, node=expr)

    def _none_test(self, test: ast.expr, scope) -> bool | None:
        """Whether ``x is None`` / ``x is not None`` / ``x`` / ``not x`` holds, for a name whose
        value is known where it is asked (a call passes ``None``, or a function or a computed
        array, to that parameter); None when it is not known."""
        negated = False
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, negated = test.operand, True
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            sides = (test.left, test.comparators[0])
            named = next((side for side in sides if isinstance(side, ast.Name)), None)
            if named is None or not any(isinstance(side, ast.Constant) and side.value is None for side in sides):
                return None
            if not self._unchanged_parameter(named.id, scope):
                return None
            none = _value_is_none(self.of(named, scope))
            if none is None:
                return None
            return (none if isinstance(test.ops[0], ast.Is) else not none) != negated
        if isinstance(test, ast.Name) and self._unchanged_parameter(test.id, scope):
            value = self.of(test, scope)
            if _value_is_none(value):
                return negated  # None is false
            if value.kind == v.CONST:
                # ``... if relu else nn.Linear(n, m)`` with ``relu=False`` passed (or the default).
                return (value.const != 0) != negated
            # A function or a module is true; a number or an array: not said here.
            callable_ = function_passed(value) is not None or value.kind == v.MODULE or isinstance(
                value.detail, (ast.FunctionDef, ast.ClassDef))
            return (not negated) if callable_ else None
        return None

    def _unchanged_parameter(self, name: str, scope) -> bool:
        """Is ``name`` a parameter never rebound, whose value is the same wherever it is
        read in the function (a test of it decides the same way at every later line)?"""
        if getattr(scope, "remote", False):
            return name in scope.arguments and scope.facts.unchanged_parameter(name)
        function = getattr(scope, "function", None)
        return isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
            self.facts.function_facts(function).unchanged_parameter(name)

    # -- names and attributes

    def _name(self, expr: ast.Name, scope) -> Value:
        name = expr.id
        if getattr(scope, "remote", False):
            if scope.facts.binds(name) and scope.facts.definition(name) is None and name not in scope.imported:
                # Bound more than once, or a parameter bound again: the binding the read sees.
                reached = scope.facts.reaching(name, getattr(expr, "lineno", 0))
                if reached is None:
                    # Bound in a loop or a branch: the assignment before the read in its block.
                    reached = scope.facts.reaching_in_block(name, getattr(expr, "lineno", 0))
                if isinstance(reached, tuple):
                    value = self.of(reached[0], scope)
                    return value.through(name, reached[1])
                if reached is None and (name in scope.arguments or not scope.facts.unchanged_parameter(name)):
                    return _named_like_a_count(expr, name)
            if name in scope.arguments:
                return scope.arguments[name]
        if not getattr(scope, "remote", False):
            # ``x = np.exp(x)``: inside its own definition, x is the definition before it.
            for definition in scope.definitions(name):
                if id(definition[0]) in self._defining:
                    continue
                self._defining.add(id(definition[0]))
                try:
                    value = self.of(definition[0], scope)
                finally:
                    self._defining.discard(id(definition[0]))
                if not value.known:
                    value = self._initial_value(definition[0], expr, scope) or value
                return value.through(name, definition[1])
            if scope.definition(name) is not None:
                return _named_like_a_count(expr, name)  # only its own definition: the one before is unknown
        definition = scope.definition(name)
        if definition is not None:
            return self.of(definition[0], scope)
        if scope.is_local(name):
            return self._parameter(name, expr, scope)
        if self.project is not None and self.project.binds(name):
            imported = self.project.name_value(name, [], expr)
            if imported is not None:
                return imported
        qualified = self.imports.qualified_name(expr, scope)
        if qualified is not None:
            return self._module_constant(qualified, expr)
        function = getattr(scope, "function", None)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            enclosed = self._enclosing_value(function, name)
            if enclosed is not None:
                return enclosed
        # A module-level name used inside a function: its one module-level assignment.
        if function is not None and not isinstance(function, ast.Module):
            module_facts = self.facts.function_facts(self.tree)
            module_definition = module_facts.definition(name)
            if module_definition is not None:
                value = self.of(module_definition[0], self._scope_of(self.tree))
                if value.known:
                    return value.remote(value.origin or f"{name} is set on line {module_definition[1]}")
            module_definition = module_facts.object_definition(name)
            if module_definition is not None:
                # ``criterion = nn.BCELoss()`` with ``criterion.size_average = False`` after it:
                # the module object still computes what it did (an array so changed does not).
                value = self.of(module_definition[0], self._scope_of(self.tree))
                if value.kind == v.MODULE:
                    return value.remote(value.origin or f"{name} is set on line {module_definition[1]}")
            if name in self.facts.classes:
                return Value(v.UNKNOWN, node=expr, detail=self.facts.classes[name])
            if name in self.facts.functions:
                return Value(v.UNKNOWN, node=expr, detail=self.facts.functions[name])
        return _named_like_a_count(expr, name)

    def _enclosing_value(self, function, name: str) -> Value | None:
        """A name a nested function reads from the function around it (a closure:
        ``init, net = stax.serial(...)`` read by the ``def`` below it): its one plain
        assignment there, when no function nested in it declares it ``nonlocal``."""
        enclosing = self.facts.enclosing.get(id(function))
        while isinstance(enclosing, (ast.FunctionDef, ast.AsyncFunctionDef)):
            facts = self.facts.function_facts(enclosing)
            if facts.binds(name):
                definition = facts.definition(name)
                if definition is None or any(
                        isinstance(node, ast.Nonlocal) and name in node.names for node in ast.walk(enclosing)):
                    return None
                value = self.of(definition[0], self._scope_of(enclosing))
                if not value.known:
                    return None
                return value.remote(value.origin or f"{name} is set on line {definition[1]} of {enclosing.name}()")
            enclosing = self.facts.enclosing.get(id(enclosing))
        return None

    def _module_constant(self, qualified: str, expr: ast.expr) -> Value:
        layer = stax.layer_name(qualified)
        if layer is not None:
            pair = stax.activation(layer, getattr(expr, "lineno", 0))  # ``stax.Relu``: a layer, not called
            if pair is not None:
                return pair.but(node=expr)
        if qualified.rpartition(".")[2] in ("pi", "e", "inf", "tau"):
            import math

            number = {"pi": math.pi, "e": math.e, "inf": math.inf, "tau": math.tau}[qualified.rpartition(".")[2]]
            return Value(v.CONST, node=expr, const=number)
        return Value(v.UNKNOWN, node=expr, detail=qualified)

    def _parameter(self, name: str, expr: ast.Name, scope) -> Value:
        """A parameter never rebound takes the value every call site in the file passes."""
        function = getattr(scope, "function", None)
        fallback = _named_like_a_count(expr, name)
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return fallback
        function_facts = self.facts.function_facts(function)
        unchanged = function_facts.unchanged_parameter(name) or (
            function_facts.reaching(name, getattr(expr, "lineno", 0)) == PARAMETER
        )
        if not unchanged or id(function) in self._active:
            return fallback
        sites = self.facts.call_sites(function)
        remote_sites = []
        called_elsewhere = sites is not None and self.project is not None and isinstance(
            self.facts.enclosing.get(id(function)), (ast.Module, ast.ClassDef)
        )
        if not sites and not called_elsewhere:
            return fallback
        every = parameters(function)
        position = next(index for index, arg in enumerate(every) if arg.arg == name)
        arg = every[position]
        received: list[tuple[Value, str, str]] = []  # (value, the argument as written, where)
        self._active.add(id(function))
        try:
            for site in sites:
                argument = argument_for(site.call, function, arg, position - site.skip)
                if argument is None:
                    return fallback
                caller = self._scope_of(site.scope)
                received.append((self.of(argument, caller), self.text(argument), f"line {site.call.lineno}"))
        finally:
            self._active.discard(id(function))
        # The calls in other modules are searched for only when this file's own calls leave
        # the value open (the search parses the modules that may call it).
        if called_elsewhere and not _fallback_whatever_else_is_passed(received):
            owner = self.facts.owner_of(function)
            # (A text search first: it spares the search of other modules for the calls.) A
            # constructor's calls, or a layer's called where it is built (``Sampling()(x)``).
            built_here = function.name == "__init__" or any(isinstance(site.call.func, ast.Call) for site in sites)
            if built_here and owner is not None and self.project.spelled_elsewhere(owner.name):
                return fallback  # the class may be built (and called) in other modules, with other arguments
            remote_sites = self.project.remote_sites(function, owner)
            if remote_sites is None:
                return fallback  # other modules use it where its callers are not all in sight
        if not received and not remote_sites:
            return fallback
        self._active.add(id(function))
        try:
            for site in remote_sites:
                argument = argument_for(site.call, function, arg, position - site.skip)
                if argument is None:
                    return fallback
                passed = any(argument is given for given in site.call.args) or any(
                    argument is keyword.value for keyword in site.call.keywords)
                value = site.value_of(argument) if passed else self.of(argument, self._scope_of(self.tree))
                if value is None:
                    return fallback
                received.append((value, ast.unparse(argument) if passed else self.text(argument), site.where))
        finally:
            self._active.discard(id(function))
        first = received[0][0]
        if all(_value_is_none(value) for value, _, _ in received):
            return first.remote(f"{name} is None at every call")  # decides ``if name is None``
        passed = function_passed(first)
        if passed is not None and all(function_passed(value) == passed for value, _, _ in received[1:]):
            sites_said = "the call" if len(received) == 1 else f"all {len(received)} calls"
            return first.remote(f"{name} is {_short(received[0][1])} at {sites_said} ({received[0][2]}, …)")
        differ = any(value.kind != first.kind for value, _, _ in received[1:]) or (
            first.kind == v.CONST and any(value.const != first.const for value, _, _ in received[1:])
        )  # ``f(x, relu=True)`` and ``f(x, relu=False)``: neither constant is the parameter's
        if not first.known or differ:
            if all(value.integer for value, _, _ in received):
                return replace(fallback, integer=True)
            return fallback
        count = len(received)
        _, argument_text, where = received[0]
        argument_text = _short(argument_text)
        if count == 1:
            at = f"the call on {where}" if not remote_sites else where
            said = f"{name} receives {argument_text} at {at}"
        else:
            # Each call passes its own expression: say the kind, and where the first one is.
            kind = "softmax" if first.kind == v.DIV and first.operand(0).kind == "exp" else first.kind
            calls = "calls in this file" if not remote_sites else "calls in the project"
            said = f"{name} receives a {kind} value at all {count} {calls} ({argument_text}, {where}, …)"
        value = replace(first, integer=all(value.integer for value, _, _ in received))
        return value.remote(said)

    def _scope_of(self, node: ast.AST) -> RemoteScope:
        scope = self._scopes.get(id(node))
        if scope is None:
            facts = self.facts
            imported = frozenset(self.imports.names) if isinstance(node, ast.Module) else frozenset()
            scope = self._scopes[id(node)] = RemoteScope(
                facts.function_facts(node), node, facts.owner_of(node), imported=imported
            )
        return scope

    def _attribute(self, expr: ast.Attribute, scope) -> Value:
        if self.project is not None:
            imported = self._project_name(expr, scope)
            if imported is not None:
                return imported
        qualified = self.imports.qualified_name(expr, scope)
        if qualified is not None:
            return self._module_constant(qualified, expr)
        base_expr = expr.value
        function = getattr(scope, "function", None)
        owner = getattr(scope, "owner", None)
        if (
            owner is not None
            and isinstance(base_expr, ast.Name)
            and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            and parameters(function)
            and parameters(function)[0].arg == base_expr.id
        ):
            return self._self_attribute(expr, owner)
        base = self.of(base_expr, scope)
        if expr.attr in _IDENTITY_ATTRIBUTES and base.known:
            return base  # ``p.data``, ``torch.max(x, 1).values``
        if base.kind == v.MODULE and isinstance(base.detail, ModuleSpec) and base.detail.attribute is not None:
            # ``model.loss`` of ``model = ConvE(...)``: what the class's methods set ``self.loss`` to.
            found = base.detail.attribute(expr.attr)
            if found is not None and found.known:
                return found
        return Value(v.ATTRIBUTE, base.framework, (base,), expr, integer=base.integer, detail=expr.attr)

    def _project_name(self, expr: ast.Attribute, scope) -> Value | None:
        """``config.EPS``, ``layers.HEAD``: a module-level value of another project module."""
        found = reference(expr)
        if found is None or not self.project.binds(found[0]) or scope.is_local(found[0]):
            return None
        return self.project.name_value(found[0], found[1], expr)

    def _self_attribute(self, expr: ast.Attribute, owner: ast.ClassDef) -> Value:
        found = self._set_attribute(owner, expr.attr, self.text(expr))
        if found is None or not found.known:
            return Value(v.UNKNOWN, node=expr, integer=found is not None and found.integer)
        return found

    def _set_attribute(self, owner: ast.ClassDef, attr: str, said: str | None = None) -> Value | None:
        """What the methods of ``owner`` set ``self.<attr>`` to: one kind wherever it is set
        (said as ``said``, or ``Class.attr``); None when it is set nowhere or being found."""
        sets, objects_only = self._attribute_sets(owner, attr)
        if sets:
            # ``self.out = None`` in ``__init__``, set for real later: nothing computes with None.
            sets = [item for item in sets if not _is_none(item.value)] or sets
        if not sets or id(owner) in self._active:
            return None
        self._active.add(id(owner))
        try:
            found = []
            for attribute_set in sets:
                found.append(self.of(attribute_set.value, self._scope_of(attribute_set.scope)))
        finally:
            self._active.discard(id(owner))
        if objects_only and any(value.kind != v.MODULE for value in found):
            return None  # ``self.p.data = …`` changes an array: only a module object stays what it was
        first = found[0]
        if not first.known or any(value.kind != first.kind for value in found[1:]):
            return Value(v.UNKNOWN, integer=all(value.integer for value in found))
        lines = ", ".join(str(attribute_set.line) for attribute_set in sets)
        where = f"set on line {lines}" if len(sets) == 1 else f"set on lines {lines}"
        return first.remote(f"{said or owner.name + '.' + attr} is {where} as {_short(self.text(sets[0].value))}")

    # -- calls

    def _call(self, call: ast.Call, scope) -> Value:
        op = self.normalizer.op_of(call, scope, follow=False)
        if op is not None:
            return self._known_call(op, call, scope)
        func = call.func
        name = identifier_of(func)
        qualified = self.imports.qualified_name(func, scope)
        cast = self._cast(name, call, func, qualified)
        if cast is not None:
            base_expr, dtype = cast
            base = self.of(base_expr, scope)
            if base.known and base.kind not in (v.MODULE, v.TUPLE):
                return Value(
                    v.INDEX, base.framework, (base,), call, integer=base.integer, detail=base_expr, dtype=dtype
                )
            return Value(v.UNKNOWN, node=call, integer=base.integer, dtype=dtype)
        if name in _MODULE_MOVES and isinstance(func, ast.Attribute) and qualified is None:
            # ``Discriminator().to(device)``, ``nn.BCELoss().cuda()``: the same module, moved.
            moved = self.of(func.value, scope)
            if moved.kind == v.MODULE:
                return moved
        transposed = name == "t" and isinstance(func, ast.Attribute) and not call.args  # ``w.t()``
        splits = name in _SPLITS and (call.args or isinstance(func, ast.Attribute))
        if name in _SHAPE_OPS and (call.args or isinstance(func, ast.Attribute)) or transposed or splits:
            # ``p.view(-1)``, ``tf.tile(s, [1, 1, n])``: the same elements, rearranged;
            # ``h.chunk(2, -1)``: pieces of them (each one an element of the result).
            base_expr = func.value if isinstance(func, ast.Attribute) and qualified is None else None
            if base_expr is None and call.args:
                base_expr = call.args[0]
            if base_expr is not None and not isinstance(base_expr, ast.Starred):
                base = self.of(base_expr, scope)
                if base.known and base.kind not in (v.MODULE, v.TUPLE):
                    return Value(v.INDEX, base.framework, (base,), call, integer=base.integer, detail=base_expr)
        if name in _GATHERS:
            base_expr = func.value if isinstance(func, ast.Attribute) and qualified is None else None
            if base_expr is None and call.args:
                base_expr = call.args[0]
            if base_expr is not None:
                base = self.of(base_expr, scope)
                return Value(v.INDEX, base.framework, (base,), call, integer=base.integer, detail=base_expr)
        if self.project is not None:
            imported = self._project_call(func, call, scope)
            if imported is not None:
                return imported
        if qualified is not None:
            module = frameworks.module_op(qualified)
            if module is not None:
                return self._module_object(module, qualified, call, scope)
            layer = stax.layer_name(qualified)
            if layer is not None:
                return self._stax_layer(layer, call, scope)
            layer = frameworks.dense_function(qualified)
            if layer is not None:
                return self._dense_output(layer, call, scope)
            return self._other_call(name, call, scope)
        if name == "forward" and isinstance(func, ast.Attribute) and qualified is None:
            # ``model.forward(x)``: the module object's call, spelled out.
            module = self.of(func.value, scope)
            if module.kind == v.MODULE:
                return self._module_call(module, call, scope)
        callee = self.of(func, scope) if isinstance(func, (ast.Name, ast.Attribute, ast.Call)) else UNKNOWN_VALUE
        if callee.kind == v.MODULE:
            return self._module_call(callee, call, scope)
        passed = function_passed(callee)
        if passed is not None:
            # ``activation(h)`` where every call passes ``tf.nn.relu``: that op, computed here
            # from what the caller chose (no fix: the function is not written at the use).
            op = self.normalizer.op_named(passed, call)
            if op is not None:
                said = callee.origin or f"{_short(self.text(func))} is {passed}"
                return self._known_call(op, call, scope).remote(said)
        summarized = self._helper_call(func, call, scope, callee)
        if summarized is not None:
            return summarized
        return self._other_call(name, call, scope)

    def _known_call(self, op, call: ast.Call, scope) -> Value:
        if getattr(op, "registered", False):
            # ``Log(x)`` with ``Log = Op(math.log)``: the value is the op's, the code is the
            # registry's — no fix may rewrite it into the wrapped library's call.
            value = self._known_call(replace(op, registered=False), call, scope)
            name = getattr(call.func, "id", None) or _short(self.text(call.func))
            return value.remote(f"{name} is {op.qualified_name} through this file's op registry")
        kind = op.kind
        if kind == "identity":  # ``.detach()``, ``stop_gradient``: the same value, without a gradient
            return replace(self.of(op.input, scope), detached=True)
        if kind in frameworks.ARITHMETIC:
            positional, keywords = op.other_args()
            if keywords or (kind != "neg" and len(positional) != 1) or op.input is None:
                return Value(v.UNKNOWN, op.framework, node=call, op=op)
            first = self.of(op.input, scope)
            if kind == "neg":
                return Value(v.NEG, op.framework, (first,), call, op, integer=first.integer)
            second = self.of(positional[0], scope)
            if kind == "rsub":
                return self._arithmetic(v.SUB, (second, first), call, op, op.framework)
            return self._arithmetic(kind, (first, second), call, op, op.framework)
        operand = self.of(op.input, scope) if op.input is not None else UNKNOWN_VALUE
        if kind in ("moments", "var_mean"):
            # ``mean, var = tf.nn.moments(x, axes)``: the elements are a mean and a variance of x
            # (no op of their own: no fix rewrites them as calls).
            mean = Value("mean", op.framework, (operand,), call)
            variance = Value("spread", op.framework, (operand,), call, detail="variance")
            elements = (mean, variance) if kind == "moments" else (variance, mean)
            return Value(v.TUPLE, op.framework, elements, call)
        if kind in ("abs", "relu") and op.input is not None and op.other_args() == ([], []):
            written_softmax = operand.kind == v.DIV and operand.operand(0).kind == "exp"
            if operand.kind in _NONNEGATIVE_KINDS or written_softmax:
                return operand  # tf.abs(softmax(x)) and relu(softmax(x)) are softmax(x), as abs(...) is
        if kind in ("max", "min") and op.framework == "torch":
            positional, keywords = op.other_args()
            second = self.of(positional[0], scope) if len(positional) == 1 and not keywords else None
            if second is not None and second.known and not second.integer:
                # ``torch.max(t, other)`` of a tensor that is no dimension: elementwise (no op to rewrite).
                elementwise = "maximum" if kind == "max" else "minimum"
                return Value(elementwise, op.framework, (operand, second), call)
        integer = operand.integer and kind in ("sum", "max", "cumsum", "clamp", "abs", "square", "relu")
        if kind == "clamp":
            low, high = _clamp_bounds(op)
            bounds = tuple(self.of(bound, scope) if bound is not None else None for bound in (low, high))
            return Value(kind, op.framework, (operand,), call, op, integer=integer, detail=bounds)
        if kind in ("maximum", "minimum", "matmul"):
            positional, keywords = op.other_args()
            other = positional[0] if positional else None
            second = self.of(other, scope) if other is not None else UNKNOWN_VALUE
            return Value(kind, op.framework, (operand, second), call, op, integer=integer and second.integer)
        if kind == "where":
            positional, _ = op.other_args()
            if len(positional) != 2:
                return Value(v.UNKNOWN, op.framework, node=call, op=op)  # ``where(c)``: indices
            chosen = tuple(self.of(branch, scope) for branch in positional)
            return Value(kind, op.framework, chosen, call, op, integer=all(b.integer for b in chosen))
        if kind == "rand":
            bounds = self._uniform_bounds(op, call, scope)
            if bounds is None:
                return Value(v.UNKNOWN, op.framework, node=call, op=op)  # drawn from a range not known
            if bounds != (0.0, 1.0):
                shape = self._constructed_shape(call, op.framework, scope)
                return Value(kind, op.framework, (operand,), call, op, detail=bounds, shape=shape)
        if kind == "randn" and (
            any(k.arg in ("loc", "scale", "mean", "stddev") for k in call.keywords)
            or (op.qualified_name == "numpy.random.normal" and call.args)
            or (op.framework == "tf" and len(call.args) > 1)
        ):
            return Value(v.UNKNOWN, op.framework, node=call, op=op)  # another mean or spread
        if kind in ("rand", "randn"):
            shape = self._constructed_shape(call, op.framework, scope)
            return Value(kind, op.framework, (operand,), call, op, integer=integer, shape=shape)
        return Value(kind, op.framework, (operand,), call, op, integer=integer)

    def _constructed_shape(self, call: ast.Call, framework: str | None, scope) -> tuple | None:
        """The shape a constructor makes where a size is a name or a formula of whole numbers
        (``size = 10`` … ``randn(size, size)``: (10, 10)); None where every size is a literal
        (``analysis.shapes`` reads those) or none is known."""
        written = [*call.args, *(keyword.value for keyword in call.keywords)]
        if not any(
            isinstance(node, (ast.Name, ast.Attribute, ast.BinOp)) for expr in written for node in ast.walk(expr)
        ):
            return None

        def size_of(expr: ast.expr) -> int | None:
            value = self.of(expr, scope)
            number = value.const if value.kind == v.CONST else None
            return int(number) if number is not None and float(number).is_integer() and number >= 0 else None

        shape = shapes.constructed(call, framework, size_of)
        return shape if shape is not None and any(size is not None for size in shape) else None

    def _uniform_bounds(self, op, call: ast.Call, scope) -> tuple[float, float] | None:
        """``(low, high)`` of a uniform draw: ``(0, 1)`` unless the call gives others (NumPy's
        ``uniform(low, high)``, TF's ``minval``/``maxval``, JAX's, torch's ``uniform_(a, b)``);
        None when a bound is not a number the code establishes."""
        if op.qualified_name == "numpy.random.uniform":
            names, first = ("low", "high"), 0  # uniform(low, high, size)
        elif op.method:
            names, first = ("from", "to"), 0  # t.uniform_(from, to)
        elif op.framework == "jax":
            names, first = ("minval", "maxval"), 3  # uniform(key, shape, dtype, minval, maxval)
        elif op.framework == "tf":
            names, first = ("minval", "maxval"), 1  # uniform(shape, minval, maxval)
        else:
            return (0.0, 1.0)
        bounds = []
        for place, (name, default) in enumerate(zip(names, (0.0, 1.0)), start=first):
            given = _keyword(call, name)
            if given is None and place < len(call.args):
                given = call.args[place]
            if given is None:
                bounds.append(default)
                continue
            value = self.of(given, scope)
            if value.kind != v.CONST or value.const is None:
                return None
            bounds.append(float(value.const))
        low, high = bounds
        return (low, high) if low <= high else None

    def _arithmetic(self, kind: str, operands: tuple[Value, Value], node, op, framework) -> Value:
        left, right = operands
        framework = framework or left.framework or right.framework
        integer = left.integer and right.integer and kind in (v.ADD, v.SUB, v.MUL, v.FLOORDIV, v.MOD)
        if kind == v.FLOORDIV:
            integer = True
        if kind == v.POW and left.integer and right.kind == v.CONST and right.const >= 0 and right.integer:
            integer = True
        if kind == v.DIV and left.kind == v.CONST and left.const == 1.0:
            written = _written_sigmoid(right)
            if written is not None:
                # 1 / (1 + exp(-x)): a sigmoid written out (no call to rewrite: op is None).
                return Value("sigmoid", framework, (written,), node, None, detail="written out")
        if kind == v.DIV and left.kind == "exp":
            written = _written_sigmoid_of_exp(left, right)
            if written is not None:
                # exp(x) / (1 + exp(x)): the same sigmoid, written the other way.
                return Value("sigmoid", framework, (written,), node, None, detail="written out")
        if left.kind == v.CONST and right.kind == v.CONST:
            number = _fold(kind, left.const, right.const)
            if number is not None:
                return Value(v.CONST, node=node, const=number, integer=integer or float(number).is_integer())
        return Value(kind, framework, operands, node, op, integer=integer)

    def _other_call(self, name: str, call: ast.Call, scope) -> Value:
        """A call of something the tables do not model: only its whole-number-ness."""
        func = call.func
        receiver = func.value if isinstance(func, ast.Attribute) else None
        if name in _MAGNITUDE and len(call.args) == 1 and not call.keywords:
            inner = self.of(call.args[0], scope)
            written_softmax = inner.kind == v.DIV and inner.operand(0).kind == "exp"
            if inner.kind in _NONNEGATIVE_KINDS or written_softmax:
                return inner  # abs(softmax(x)) is softmax(x)
        if (name in _WEIGHT_FUNCTIONS and qualified_module(self.imports, func, scope)) or (
            name in _WEIGHT_METHODS and isinstance(receiver, ast.Name) and receiver.id == "self"
        ):
            return Value(v.WEIGHT, node=call)
        if initial.asks_for_gradient(call):
            return Value(v.UNKNOWN, node=call)  # trained: what it is filled with is where it starts, not its range
        filled = self._filled_value(name, call, scope)
        if filled is not None:
            return filled
        if name in constants.ARRAY_BUILDERS and qualified_module(self.imports, func, scope):
            literal = constants.literal_range(call)
            if literal is not None:
                interval, whole = literal
                dtype = next((_float_dtype(k.value) for k in call.keywords if k.arg == "dtype"), None)
                root = (self.imports.qualified_name(func, scope) or "").split(".")[0]
                framework = {"tensorflow": "tf", "keras": "tf"}.get(root, root)
                return Value(
                    v.RANGED, framework, (), call, detail=interval, integer=whole and dtype is None, dtype=dtype
                )
        if name in _ONES_LIKE and call.args:
            return Value(v.CONST, node=call, const=1.0, integer=True, detail=("ones_like", call.args[0]))
        if name in _INTEGER_CALLS:
            return Value(v.UNKNOWN, node=call, integer=True)
        for keyword in call.keywords:
            if keyword.arg == "dtype" and _dtype_is_integer(keyword.value):
                return Value(v.UNKNOWN, node=call, integer=True)
        if name in ("astype", "to", "type", "cast") and call.args and _dtype_is_integer(call.args[-1]):
            return Value(v.UNKNOWN, node=call, integer=True)
        if name in ("int", "long", "short") and receiver is not None:
            return Value(v.UNKNOWN, node=call, integer=True)
        if name in ("size",) and receiver is not None:
            return Value(v.UNKNOWN, node=call, integer=True)  # x.size(0)
        if name in _RANGE_CALLS:
            arguments = [self.of(arg, scope) for arg in call.args]
            return Value(v.UNKNOWN, node=call, integer=bool(arguments) and all(a.integer for a in arguments))
        if name in _INTEGER_PRESERVING:
            inputs = [receiver] if receiver is not None and self.imports.qualified_name(receiver, scope) is None else []
            inputs += [arg for arg in call.args[:1]]
            if inputs and all(self.of(expr, scope).integer for expr in inputs):
                return Value(v.UNKNOWN, node=call, integer=True)
        # ``torch.fft.fftfreq(n, dtype=torch.float32)``: whatever it computes, it says its dtype.
        dtype = next((_float_dtype(k.value) for k in call.keywords if k.arg == "dtype"), None)
        return Value(v.UNKNOWN, node=call, dtype=dtype)

    def _filled_value(self, name: str, call: ast.Call, scope) -> Value | None:
        """``zeros``/``ones``/``full``/``arange``/``linspace`` of the framework: its range."""
        if name not in _FILLED or not qualified_module(self.imports, call.func, scope):
            return None
        filled = self._filled(name, call, scope)
        if filled is None:
            return None
        whole = name in ("zeros", "ones", "zeros_like") or (
            name == "arange" and all(self.of(arg, scope).integer for arg in call.args)
            and not any(k.arg == "dtype" and not _dtype_is_integer(k.value) for k in call.keywords)
        )
        dtype = next((_float_dtype(k.value) for k in call.keywords if k.arg == "dtype"), None)
        root = (self.imports.qualified_name(call.func, scope) or "").split(".")[0]
        shape = self._constructed_shape(call, {"tensorflow": "tf"}.get(root, root), scope)
        return Value(v.RANGED, None, (), call, detail=filled, integer=whole, dtype=dtype, shape=shape)

    def _initial_value(self, made: ast.expr, read: ast.Name, scope) -> Value | None:
        """A tensor made to be trained, read where nothing can have trained it yet
        (``analysis.initial``): the value it was filled with."""
        if not isinstance(made, ast.Call) or not initial.asks_for_gradient(made):
            return None
        root = getattr(scope, "function", None) or self.tree
        if not initial.read_before_any_use(root, made, read):
            return None
        return self._filled_value(identifier_of(made.func), made, scope)

    def _cast(self, name: str, call: ast.Call, func: ast.expr, qualified: str | None):
        """(the cast expression, its float dtype) for ``x.half()``, ``x.to(torch.float16)``,
        ``x.astype(np.float16)``, ``tf.cast(x, tf.float16)``; None for anything else."""
        method = isinstance(func, ast.Attribute) and qualified is None
        if method and name in _CAST_METHODS and not call.args and not call.keywords:
            return func.value, _CAST_METHODS[name]
        if method and name in ("to", "type", "astype"):
            dtype = next((_float_dtype(arg) for arg in call.args if _float_dtype(arg)), None)
            dtype = dtype or next((_float_dtype(k.value) for k in call.keywords if k.arg == "dtype"), None)
            if dtype is not None:
                return func.value, dtype
        if qualified is not None and name == "cast" and len(call.args) >= 2 and _float_dtype(call.args[1]):
            return call.args[0], _float_dtype(call.args[1])
        return None

    def _filled(self, name: str, call: ast.Call, scope):
        """The range of ``zeros``/``ones``/``full``/``arange``/``linspace`` (``ones_like`` is the
        constant 1, see ``_other_call``)."""
        from stablelint.analysis import intervals

        if name in ("zeros", "zeros_like"):
            return intervals.point(0.0)
        if name == "ones":
            return intervals.point(1.0)
        numbers = [self.of(arg, scope) for arg in call.args]
        keywords = {keyword.arg: self.of(keyword.value, scope) for keyword in call.keywords}
        if name in ("full", "full_like"):
            fill = keywords.get("fill_value") or (numbers[1] if len(numbers) > 1 else None)
            return intervals.point(fill.const) if fill is not None and fill.kind == v.CONST else None
        if name in ("arange", "linspace"):
            ends = [number.const for number in numbers[:2] if number.kind == v.CONST]
            if len(ends) != min(2, len(numbers)) or not ends:
                return None
            if name == "arange" and len(ends) == 1:
                ends = [0.0, ends[0]]
            low, high = min(ends), max(ends)
            return intervals.Interval(low, high)
        return None

    # -- module objects

    def _module_object(self, module: tuple[str, str], qualified: str, call: ast.Call, scope) -> Value:
        output, framework = module
        description = _short(self.text(call))
        if output == "sequential":
            layers = list(call.args)
            if len(layers) == 1 and isinstance(layers[0], (ast.List, ast.Tuple)):
                layers = list(layers[0].elts)  # keras.Sequential([...])
            if layers and (isinstance(layers[-1], ast.Starred) or len(layers) == 1 and framework == "tf"):
                # ``nn.Sequential(*layers)``, ``keras.Sequential(layers)``: the list's last ``append``.
                built = layers[-1].value if isinstance(layers[-1], ast.Starred) else layers[-1]
                body = getattr(scope, "function", None) or self.tree
                appended = last_appended(body, built.id, call.lineno) if isinstance(built, ast.Name) else None
                layers = [appended] if appended is not None else []
            if not layers:
                return Value(v.UNKNOWN, node=call)
            last = self.of(layers[-1], scope)
            if last.kind != v.MODULE:
                return Value(v.UNKNOWN, node=call)
            spec = replace(last.detail, description=f"{description.split('(')[0]}(..., {last.detail.description})")
            return Value(v.MODULE, framework, node=call, detail=replace(spec, line=call.lineno))
        if output in ("dense", "activation"):
            activation = _keyword(call, "activation")
            if activation is None and output == "activation" and call.args:
                activation = call.args[0]
            output = self._activation(activation, scope) if activation is not None else v.LINEAR
            if output is None:
                return Value(v.UNKNOWN, node=call)
        spec = ModuleSpec(output, framework, description, call.lineno, qualified=qualified)
        return Value(v.MODULE, framework, node=call, detail=spec)

    def _stax_layer(self, name: str, call: ast.Call, scope) -> Value:
        """``stax.Dense(n)``, ``stax.serial(...)``, ``stax.parallel(...)``: the (init, apply) pair."""
        layers = [None if isinstance(argument, ast.Starred) else self.of(argument, scope) for argument in call.args]
        pair = stax.built(name, layers, call.lineno)
        return pair.but(node=call) if pair is not None else Value(v.UNKNOWN, node=call)

    def _activation(self, expr: ast.expr, scope) -> str | None:
        if isinstance(expr, ast.Constant):
            if expr.value is None:
                return v.LINEAR
            if isinstance(expr.value, str):
                return frameworks.ACTIVATIONS.get(expr.value)
            return None
        qualified = self.imports.qualified_name(expr, scope)
        known = qualified and frameworks.function_op(qualified)
        return known[0] if known else None

    def _dense_output(self, layer, call: ast.Call, scope) -> Value:
        """``tf.layers.dense(x, n, tf.nn.softmax)``: the activation's output of an affine map."""
        keyword, position, default = layer
        activation = next((k.value for k in call.keywords if k.arg == keyword), None)
        if activation is None and len(call.args) > position:
            activation = call.args[position]
        kind = self._activation(activation, scope) if activation is not None else default
        linear = Value(v.LINEAR, "tf", (), call)
        if kind is None:
            return Value(v.UNKNOWN, node=call)
        if kind == v.LINEAR:
            return linear
        return Value(kind, "tf", (linear,), call, None, detail="activation of a dense layer")

    def _module_call(self, module: Value, call: ast.Call, scope) -> Value:
        spec: ModuleSpec = module.detail
        if not call.args or spec.output == v.UNKNOWN:
            return Value(v.UNKNOWN, node=call)
        operand = self.of(call.args[0], scope)
        callee = _short(self.text(call.func))
        where = f"{spec.file}:{spec.line}" if spec.file else f"line {spec.line}"
        if spec.description.startswith(callee) and not spec.file:
            origin = f"the output of {spec.description} on line {spec.line}"
        else:
            origin = f"{callee}(...) is the output of {spec.description} ({where})"
        if spec.forward_with is not None and not any(isinstance(a, ast.Starred) for a in call.args):
            positional = [self.of(argument, scope) for argument in call.args]
            keywords = {keyword.arg: self.of(keyword.value, scope) for keyword in call.keywords if keyword.arg}
            found = spec.forward_with(positional, keywords)
            if found is not None and found.known and (spec.result is None or found.kind == spec.result.kind):
                return replace(found, node=call).remote(origin)
        if spec.result is not None:
            return replace(spec.result, node=call).remote(origin)
        return Value(spec.output, spec.framework, (operand,), call, None, local=False, origin=origin)

    # -- functions and classes of other modules of the project

    def _project_call(self, func: ast.expr, call: ast.Call, scope) -> Value | None:
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or not self.project.binds(root.id):
            return None
        if scope.is_local(root.id) or scope.definition(root.id) is not None:
            return None
        return self.project.call_value(self, func, call, scope)

    def returned_value(self, function, arguments: dict[str, Value]) -> tuple[Value, int] | None:
        """What ``function`` of this file returns given its parameters' values (another
        module's call), with the line of its first ``return``; None when it is not known."""
        if id(function) in self._active:
            return None
        returns = self._returned_expressions(function)
        if not returns or any(value is None for value in returns):
            return None
        facts = self.facts
        remote = RemoteScope(facts.function_facts(function), function, facts.owner_of(function), arguments)
        return self._summarized(function, returns, remote), returns[0].lineno

    def instance_value(self, cls: ast.ClassDef) -> Value | None:
        """A module object of this file's class ``cls``, as another module builds it."""
        return self._instance(cls, None)

    def module_value(self, expr: ast.expr) -> Value:
        """The value of an expression of this file's module level (a constant, a default)."""
        return self.of(expr, self._scope_of(self.tree))

    # -- functions and classes of this file

    def _helper_call(self, func: ast.expr, call: ast.Call, scope, callee: Value) -> Value | None:
        definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        target = callee.detail if isinstance(callee.detail, definitions) else None
        skip = 0
        owner = getattr(scope, "owner", None)
        function = getattr(scope, "function", None)
        if target is None and isinstance(func, ast.Name) and scope.definition(func.id) is None:
            # A function or class of the file, named where no local binding hides it (at
            # module level the def statement is the binding).
            at_module_level = isinstance(function, ast.Module) or (function is None and owner is None)
            if not scope.is_local(func.id) or at_module_level:
                target = self.facts.functions.get(func.id) or self.facts.classes.get(func.id)
        if (
            target is None
            and isinstance(func, ast.Attribute)
            and owner is not None
            and isinstance(func.value, ast.Name)
            and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            and parameters(function)
            and parameters(function)[0].arg == func.value.id
        ):
            method = self.facts.class_facts(owner).methods.get(func.attr)
            if method is not None and not self.facts.class_facts(owner).assigned(func.attr):
                target, skip = method, 1
        if (
            target is None
            and isinstance(func, ast.Name)
            and owner is not None
            and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            and parameters(function)
            and parameters(function)[0].arg == func.id
        ):
            # ``self(z, s)`` in a method: the module calls itself, its forward computes the result.
            forward = self.facts.class_facts(owner).forward
            if forward is not None and forward is not function:
                target, skip = forward, 1
        if target is None:
            return None
        if isinstance(target, ast.ClassDef):
            return self._instance(target, call)
        return self._returned(target, call, scope, skip)

    def _returned(self, function, call: ast.Call, scope, skip: int) -> Value | None:
        if id(function) in self._active:
            return None
        returns = self._returned_expressions(function)
        if not returns or any(value is None for value in returns):
            return None
        every = parameters(function)
        arguments: dict[str, Value] = {}
        for position, arg in enumerate(every[skip:]):
            argument = argument_for(call, function, arg, position)
            if argument is not None:
                arguments[arg.arg] = self.of(argument, scope)
        facts = self.facts
        remote = RemoteScope(facts.function_facts(function), function, facts.owner_of(function), arguments)
        found = self._summarized(function, returns, remote)
        if not found.known:
            return Value(v.UNKNOWN, node=call, integer=found.integer)
        origin = f"{function.name}() returns {_short(self.text(returns[0]))} on line {returns[0].lineno}"
        return found.remote(origin)

    def _returned_expressions(self, function) -> list[ast.expr | None]:
        """What each ``return`` of ``function`` (of this file) writes, in line order; found
        once per function (a helper called from many formulas is asked each time)."""
        known = self._returned_exprs.get(id(function))
        if known is None or known[0] is not function:
            known = self._returned_exprs[id(function)] = (function, [node.value for node in _returns(function)])
        return known[1]

    def _summarized(self, function, returns: list[ast.expr], remote: RemoteScope) -> Value:
        """The value ``function`` returns: one kind on every ``return``, or unknown."""
        self._active.add(id(function))
        try:
            found = [self.of(expr, remote) for expr in returns]
        finally:
            self._active.discard(id(function))
        first = found[0]
        if not first.known or any(value.kind != first.kind for value in found[1:]):
            return Value(v.UNKNOWN, integer=all(value.integer for value in found))
        return first

    def _instance(self, cls: ast.ClassDef, call: ast.Call) -> Value | None:
        """``Head(...)``: a module of this file; calling it computes what its forward returns."""
        forward = self.facts.class_facts(cls).forward
        if forward is not None and id(forward) in self._active:
            return None
        returns = self._returned_expressions(forward) if forward is not None else []
        first = UNKNOWN_VALUE
        if returns and all(value is not None for value in returns):
            first = self._summarized(forward, returns, RemoteScope(self.facts.function_facts(forward), forward, cls))
        if not first.known:
            # A container (``model = CLUB(...)`` whose forward computes nothing known, or
            # that has none): its call is unknown, but the layers its methods set are
            # followed (``model.encoder(x)``).
            spec = ModuleSpec(v.UNKNOWN, None, f"{cls.name}(...)", cls.lineno,
                              attribute=partial(self._instance_attribute, cls))
            return Value(v.MODULE, node=call, detail=spec)
        spec = ModuleSpec(first.kind, first.framework, f"{cls.name}(...)", cls.lineno, result=first,
                          forward_with=partial(self._forward_with, forward),
                          attribute=partial(self._instance_attribute, cls))
        return Value(v.MODULE, first.framework, node=call, detail=spec)

    def _attribute_sets(self, owner: ast.ClassDef, attr: str, depth: int = 0) -> tuple[list | None, bool]:
        """The sets of ``self.<attr>`` for methods of ``owner``: its own, else those of the
        base classes of this file it derives from (``_MDRNNBase.__init__`` sets
        ``self.gmm_linear`` that ``MDRNN.forward`` calls); and whether they hold only as
        module objects (the attribute's own attributes are stored into:
        ``self.conv.weight.data = 0 * self.conv.weight.data``)."""
        class_facts = self.facts.class_facts(owner)
        if class_facts.assigned(attr) or depth > 3:
            sets = class_facts.sets_of(attr)
            if sets is not None:
                return sets, False
            return class_facts.object_sets_of(attr), True
        for base in owner.bases:
            defined = self.facts.classes.get(base.id) if isinstance(base, ast.Name) else None
            if defined is not None and defined is not owner:
                return self._attribute_sets(defined, attr, depth + 1)
        return None, False

    def _instance_attribute(self, cls: ast.ClassDef, name: str) -> Value | None:
        """``model.loss`` of a module object of this file's class ``cls``: what its methods
        set ``self.loss`` to (one kind wherever it is set), or None."""
        value = self._set_attribute(cls, name)
        return value if value is not None and value.known else None

    def _forward_with(self, forward, positional: list[Value], keywords: dict[str, Value]) -> Value | None:
        """What ``forward`` (a method: ``self`` first) returns given the values a call of its
        module passes; parameters the call leaves to their defaults stay unknown."""
        if id(forward) in self._active:
            return None
        passed = forward.args.posonlyargs + forward.args.args
        arguments: dict[str, Value] = {}
        for arg in parameters(forward)[1:]:
            if arg.arg in keywords:
                arguments[arg.arg] = keywords[arg.arg]
            elif arg in passed and 0 <= passed.index(arg) - 1 < len(positional):
                arguments[arg.arg] = positional[passed.index(arg) - 1]
        summary = self.returned_value(forward, arguments)
        return summary[0] if summary is not None else None


_CLAMP_LOW = ("min", "a_min", "clip_value_min", "min_value", "lower")
_CLAMP_HIGH = ("max", "a_max", "clip_value_max", "max_value", "upper")


def _clamp_bounds(op) -> tuple[ast.expr | None, ast.expr | None]:
    """The lower and upper bound of ``clamp(x, min, max)`` / ``clip(x, a_min, a_max)`` /
    ``clip_by_value(t, lo, hi)`` / ``x.clamp_min(lo)``, by keyword or position."""
    positional, keywords = op.other_args()
    low = positional[0] if positional else None
    high = positional[1] if len(positional) > 1 else None
    for keyword in keywords:
        if keyword.arg in _CLAMP_LOW:
            low = keyword.value
        elif keyword.arg in _CLAMP_HIGH:
            high = keyword.value
    if identifier_of(op.call.func) == "clamp_min":
        high = None
    if identifier_of(op.call.func) == "clamp_max":
        low, high = None, low if high is None else high
    if isinstance(low, ast.Constant) and low.value is None:
        low = None
    if isinstance(high, ast.Constant) and high.value is None:
        high = None
    return low, high


def _written_sigmoid(denominator: Value) -> Value | None:
    """x when ``denominator`` is ``1 + exp(-x)`` (in either order)."""
    if denominator.kind != v.ADD or len(denominator.operands) != 2:
        return None
    for one, exp in (denominator.operands, reversed(denominator.operands)):
        if one.kind == v.CONST and one.const == 1.0 and exp.kind == "exp" and exp.operand().kind == v.NEG:
            return exp.operand().operand()
        if one.kind == v.CONST and one.const == 1.0 and exp.kind == "exp" and _negated_product(exp.operand()):
            return UNKNOWN_VALUE  # 1 / (1 + exp(-a * x)): a sigmoid of a * x, whose value is not kept
    return None


def _negated_product(value: Value) -> bool:
    """``-a * x``, ``-2 * x``: a product with a negated or negative factor."""
    return value.kind == v.MUL and any(
        operand.kind == v.NEG or (operand.kind == v.CONST and operand.const < 0) for operand in value.operands
    )


def _written_sigmoid_of_exp(exp: Value, denominator: Value) -> Value | None:
    """x when ``exp`` is exp(x) and ``denominator`` is ``1 + exp(x)`` (in either order)."""
    from stablelint.ir import same_expression

    if denominator.kind != v.ADD or len(denominator.operands) != 2 or exp.op is None or exp.op.input is None:
        return None
    for one, other in (denominator.operands, reversed(denominator.operands)):
        if one.kind != v.CONST or one.const != 1.0 or other.kind != "exp" or other.op is None:
            continue
        if other.node is exp.node or (other.op.input is not None and same_expression(other.op.input, exp.op.input)):
            return exp.operand()
    return None


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _returns(function) -> list[ast.Return]:
    found = []
    pending = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            return []  # a generator returns a generator
        else:
            pending.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda node: node.lineno)


def _squares(product: Value) -> bool:
    """``t * t``: the same value twice (the same name, attribute or element, read in one
    expression that calls nothing), so the product is a square, not two independent factors."""
    if len(product.operands) == 2 and product.operands[0] is product.operands[1]:
        return True
    node = product.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return False
    plain = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Load, ast.Slice, ast.Tuple,
             ast.expr_context, ast.UnaryOp, ast.unaryop)
    if not all(isinstance(part, plain) for part in ast.walk(node.left)):
        return False
    return ast.dump(node.left) == ast.dump(node.right)


def _drawn_from_a_normal(value: Value) -> bool:
    """A standard normal draw (``torch.randn``, ``np.random.randn``), or elements of one."""
    for _ in range(6):
        if value.kind == v.INDEX and value.operands:
            value = value.operand()
        else:
            break
    return value.kind == "randn"


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _kind_said(value: Value) -> str:
    written_softmax = value.kind == v.DIV and value.operand(0).kind == "exp"
    return "a softmax" if written_softmax else f"a {value.kind} value"


def _join(first: Value, second: Value, node: ast.AST) -> Value:
    if first.kind == v.MODULE and second.kind == v.MODULE and _module_output(first) != _module_output(second):
        # ``nn.Sequential(nn.Linear(n, m), nn.ReLU()) if relu else nn.Linear(n, m)``: two objects
        # computing different things are not the first one.
        return Value(v.UNKNOWN, node=node)
    if first.kind == v.MODULE and second.kind == v.MODULE and _class_of(first) != _class_of(second):
        # ``Encoder(...) if raw else BoundedEncoder(...)``: two classes of the project whose
        # forwards return tuples of different things.
        return Value(v.UNKNOWN, node=node)
    if first.kind == second.kind and first.known:
        return replace(first, integer=first.integer and second.integer)
    return Value(v.UNKNOWN, node=node, integer=first.integer and second.integer)


def _class_of(value: Value) -> tuple | None:
    """Where the class of a module object of the project is written (None: a framework module)."""
    spec = value.detail
    if not isinstance(spec, ModuleSpec) or spec.result is None and spec.output != v.UNKNOWN:
        return None
    return (spec.file, spec.line, spec.description)


def _module_output(value: Value) -> str | None:
    return value.detail.output if isinstance(value.detail, ModuleSpec) else None


def function_passed(value: Value) -> str | None:
    """The framework function a value is (``tf.nn.relu`` passed as an argument, not called),
    by its qualified name; None for anything else."""
    if value.kind == v.UNKNOWN and isinstance(value.detail, str) and frameworks.function_op(value.detail):
        return value.detail
    return None


def _value_is_none(value: Value) -> bool | None:
    """True for the constant None, False for a value that cannot be None (a function, an
    array some op computed), None when it is not known."""
    if value.kind == v.UNKNOWN:
        if _is_none(value.node):
            return True
        if function_passed(value) is not None or isinstance(value.detail, (ast.FunctionDef, ast.ClassDef)):
            return False
        return None
    if value.kind in (v.ATTRIBUTE, v.INDEX):
        return None  # ``layer.bias``, ``items[0]``: may hold None
    return False


def _fold(kind: str, left: float, right: float) -> float | None:
    try:
        if kind == v.ADD:
            return left + right
        if kind == v.SUB:
            return left - right
        if kind == v.MUL:
            return left * right
        if kind == v.DIV:
            return left / right
        if kind == v.POW:
            return float(left ** right) if abs(right) < 64 else None
        if kind == v.FLOORDIV:
            return float(left // right)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return None


def _fallback_whatever_else_is_passed(received) -> bool:
    """Do the values a parameter ``received`` from the file's own calls already make it the
    fallback of `Evaluator._parameter`, whatever the calls in other modules pass? (They are
    not None at every call, not one function at every call, and disagree in kind or are
    unknown, and not all whole numbers.)"""
    if not received:
        return False
    values = [value for value, _, _ in received]
    first = values[0]
    if all(_value_is_none(value) for value in values):
        return False
    passed = function_passed(first)
    if passed is not None and all(function_passed(value) == passed for value in values[1:]):
        return False
    if first.known and all(value.kind == first.kind for value in values[1:]):
        return False
    return not all(value.integer for value in values)


def _short(text: str, limit: int = 48) -> str:
    """Code quoted in a message: whole when short, else its callee with ``(...)``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    callee = text.split("(", 1)[0]
    return f"{callee}(...)" if "(" in text and len(callee) < limit else text[: limit - 3] + "..."


def _named_like_a_count(expr: ast.expr, name: str) -> Value:
    from stablelint.analysis.counts import is_count_name

    return Value(v.UNKNOWN, node=expr, integer=is_count_name(name))


# -- ranges: the interval each value can take (analysis.intervals), derived from the value


_ESTABLISHED = {
    # ops whose output range holds whatever their input: the code itself establishes it
    "softmax": "UNIT", "rand": "UNIFORM", "log_softmax": "NONPOSITIVE", "spread": "NONNEGATIVE",
    "norm": "NONNEGATIVE", "softplus": "NONNEGATIVE", v.LINEAR: "UNBOUNDED", "randn": "NORMAL",
}
# Standard normal draws are unbounded in theory, not in the generators: a draw is a function
# of uniform draws of at most 64 bits (Box-Muller, inverse erf, the ziggurat's tail), which
# no generator in use takes past 16 in magnitude (about 8.6 for Box-Muller on doubles).
NORMAL_DRAW_BOUND = 16.0


def dtype_of(value: Value, assumed: str | None = None, autocast: Autocast | None = None) -> str:
    """The float dtype a value computes in: the one the code gives it or its operands (a
    cast, ``dtype=``, an autocast block), else float64 for NumPy and math, and for the deep
    learning frameworks the ``assume-dtype`` setting or float32."""
    from stablelint.analysis import intervals

    said = _said_dtype(value, autocast)
    if said is not None:
        return said
    if value.framework in ("numpy", "math"):
        return "float64"
    return assumed or intervals.DEFAULT_DTYPE


def _said_dtype(value: Value, autocast: Autocast | None = None, depth: int = 0) -> str | None:
    if value.dtype is not None or depth > 6:
        return value.dtype
    if autocast is not None and value.framework in (None, "torch"):
        region = autocast.at(value.node)
        if region is not None and region != OFF:
            if value.kind in AUTOCAST_LOWER:
                return region
            if value.kind in AUTOCAST_FLOAT32:
                return "float32"
    for operand in value.operands:
        found = _said_dtype(operand, autocast, depth + 1)
        if found is not None:
            return found
    return None


_CAST_METHODS = {"half": "float16", "float": "float32", "double": "float64", "bfloat16": "bfloat16"}
_FLOAT_DTYPES = {
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "float32": "float32", "float": "float32",
    "float64": "float64", "double": "float64", "single": "float32",
}


def _float_dtype(expr: ast.expr | None) -> str | None:
    """``torch.float16``, ``np.float16``, ``"float16"``, ``tf.half`` as a dtype name."""
    if expr is None:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return _FLOAT_DTYPES.get(expr.value)
    name = identifier_of(expr)
    return _FLOAT_DTYPES.get(name) if isinstance(expr, ast.Attribute) else None


_UNKNOWN_YET = object()


class Ranges:
    """Intervals of values, memoized: ``of(value)`` is an ``Interval`` or None (unknown)."""

    def __init__(self, assumed_dtype: str | None = None, autocast: Autocast | None = None) -> None:
        # Held weakly: a value the evaluator no longer keeps is asked about no more.
        self._memo: WeakKeyDictionary[Value, object] = WeakKeyDictionary()
        self.assumed_dtype = assumed_dtype
        self.autocast = autocast

    def of(self, value: Value | None, depth: int = 0):
        if value is None:
            return None
        cached = self._memo.get(value, _UNKNOWN_YET)
        if cached is not _UNKNOWN_YET:
            return cached
        result = self._compute(value, depth) if depth < 32 else None
        self._memo[value] = result
        return result

    def _compute(self, value: Value, depth: int):
        from stablelint.analysis import intervals as iv

        kind = value.kind
        if kind == v.CONST:
            return iv.point(value.const)
        if kind == v.RANGED:
            return value.detail
        established = _ESTABLISHED.get(kind)
        if kind == "softmax":
            given = self.of(value.operands[0], depth + 1) if value.operands else None
            return iv.softmax(given, dtype_of(value, self.assumed_dtype, self.autocast)) if given else iv.UNIT
        if established == "UNIT":
            return iv.UNIT
        if established == "UNIFORM":
            given = isinstance(value.detail, tuple) and len(value.detail) == 2
            low, high = value.detail if given else (0.0, 1.0)
            double = dtype_of(value, self.assumed_dtype, self.autocast) == "float64"
            # rand draws from [0, 1): 0 included, 1 not (other bounds: low included, high rounds to).
            top = high if given else 1.0 - 2.0 ** (-53 if double else -24)
            if low == 0.0 and double:
                # A float64 draw is a multiple of 2^-53 of its width: 0 once in 2^53 draws, not an
                # input the code will see (float32's 2^-24 is: torch.rand gives exact zeros).
                return iv.Interval((high - low) * 2.0 ** -53, top)
            return iv.Interval(low, top)
        if kind == "norm" and value.operands:
            # The norm of a vector whose elements stay away from 0 is at least their smallest size.
            elements = self.of(value.operands[0], depth + 1)
            if elements is not None and (elements.lo > 0 or elements.hi < 0):
                return iv.Interval(min(abs(elements.lo), abs(elements.hi)), iv.INF)
            exact = constants.exact_vector(value.operands[0])
            largest = max((abs(element) for element in exact), default=0.0) if exact else None
            if largest and value.op is not None and not any(value.op.other_args()):
                return iv.Interval(largest, iv.INF)  # a constant non-zero vector, reduced whole
            if _drawn_from_a_normal(value.operands[0]):
                # Each element of a normal draw is 0 with probability below 2^-24 (a function of
                # uniform bits), a norm only when all are: not an input the code will see.
                return iv.Interval(iv.SMALLEST_NORMAL["float32"], iv.INF)
        if established == "NONNEGATIVE":
            return iv.NONNEGATIVE
        if established == "NONPOSITIVE":
            return iv.Interval(-iv.INF, 0.0)
        if established == "UNBOUNDED":
            return iv.UNBOUNDED
        if established == "NORMAL":
            return iv.Interval(-NORMAL_DRAW_BOUND, NORMAL_DRAW_BOUND)
        operands = [self.of(operand, depth + 1) for operand in value.operands]
        if kind == "matmul":
            return _matmul_range(value.operands, operands)
        first = operands[0] if operands else None
        dtype = dtype_of(value, self.assumed_dtype, self.autocast)
        if kind == "exp":
            # exp(unknown) >= 0, but how large is as unknown as its input: no claim.
            flushes = value.framework in iv.FLUSHES_SUBNORMALS
            return iv.exp(first, dtype, flushes_subnormals=flushes) if first is not None else None
        if kind == "sigmoid":
            return iv.sigmoid(first, dtype) if first is not None else iv.UNIT
        if kind == "relu":
            return iv.relu(first) if first is not None else iv.NONNEGATIVE
        if kind == "tanh":
            return iv.tanh(first, dtype) if first is not None else iv.Interval(-1.0, 1.0)
        if kind in _ACTIVATION_RANGES:
            transfer, whatever = _ACTIVATION_RANGES[kind]
            if first is None:
                return whatever
            return transfer(first, dtype) if kind == "log_sigmoid" else transfer(first)
        if kind == "where" and len(operands) == 2:
            return iv.join(*_where_branches(value, operands))
        if kind == "clamp":
            low, high = value.detail if isinstance(value.detail, tuple) else (None, None)
            # The bounds are converted to the clamped tensor's dtype: 1 - 1e-8 is 1.0 in float32.
            low_range = _rounded(self.of(low, depth + 1), dtype)
            high_range = _rounded(self.of(high, depth + 1), dtype)
            if (low is not None and low_range is None) or (high is not None and high_range is None):
                return None  # a bound the code does not pin down
            return iv.clamp(first if first is not None else iv.UNBOUNDED, low_range, high_range)
        if kind in ("maximum", "minimum") and len(operands) == 2:
            known = [operand if operand is not None else iv.UNBOUNDED for operand in operands]
            if operands[0] is None and operands[1] is None:
                return None
            return iv.maximum(*known) if kind == "maximum" else iv.minimum(*known)
        if kind == v.SUB and shifts.is_max_shifted(value):
            return iv.Interval(-iv.INF, 0.0)  # x - max(x), however far the max was computed
        if first is None and not is_affine(value, operands):
            return None  # computed from something unknown: unknown (``abs(x)``, ``x ** 2`` too)
        if kind == v.INDEX or kind == "max" or kind == "mean":
            return first
        if kind in ("sum", "cumsum"):
            return iv.total(first)
        if kind == "log":
            return iv.log(first)
        if kind == "log1p":
            return iv.log1p(first)
        if kind == "expm1":
            return iv.expm1(first, dtype)
        if kind == "sqrt":
            return iv.sqrt(first)
        if kind == "rsqrt":
            return iv.rsqrt(first)
        if kind == "reciprocal":
            return iv.reciprocal(first)
        if kind == "abs":
            return iv.absolute(first)
        if kind == "square":
            return iv.power(first, 2)
        if kind == v.NEG:
            return iv.neg(first)
        if is_affine(value, operands):
            return iv.UNBOUNDED  # x @ w + b: whatever b is, the sum spans all of R
        if kind == v.MUL and _squares(value):
            return iv.power(first, 2)  # ``t * t`` is a square: never below 0, whatever t's range
        if kind in (v.ADD, v.SUB, v.MUL, v.DIV) and len(operands) == 2 and operands[1] is not None:
            return {v.ADD: iv.add, v.SUB: iv.sub, v.MUL: iv.mul, v.DIV: iv.div}[kind](first, operands[1])
        if kind == v.POW and len(value.operands) == 2 and value.operands[1].kind == v.CONST:
            return iv.power(first, value.operands[1].const)
        return None


def _where_branches(value: Value, ranges: list) -> list:
    """The ranges of ``where(c, a, b)``'s branches where they are chosen: ``a`` where ``c``
    holds, ``b`` where it does not (``where(p > 0, p, 1.0)`` is never 0)."""
    from stablelint.analysis import conditions
    from stablelint.analysis import intervals as iv

    call = value.node
    if not isinstance(call, ast.Call) or len(call.args) != 3:
        return ranges
    refined = []
    for branch, interval, holds in zip(call.args[1:], ranges, (True, False)):
        said = conditions.facts(call.args[0], branch, holds) if interval is not None else set()
        if interval is not None and interval.lo <= 0 <= interval.hi:
            if "positive" in said or ("nonzero" in said and interval.lo == 0):
                interval = iv.Interval(min(5e-324, interval.hi), interval.hi, interval.nan)
            elif "nonnegative" in said:
                interval = iv.Interval(0.0, interval.hi, interval.nan)
        refined.append(interval)
    return refined


def is_affine(value: Value, ranges: list) -> bool:
    """``x @ w + b`` written as one expression (``tf.matmul(h, w) + b``, ``tf.add(x @ w, b)``):
    the matmul spans all of R, and a bias that does not depend on it shifts it."""
    if value.kind != v.ADD or len(value.operands) != 2 or value.node is None:
        return False
    node = value.node
    written = [node.left, node.right] if isinstance(node, ast.BinOp) else list(getattr(node, "args", []))
    inline = [operand.kind in ("matmul", v.LINEAR) and any(operand.node is w for w in written)
              for operand in value.operands]
    return any(inline) and _shifts_an_unbounded(value.operands, ranges)


def _shifts_an_unbounded(values: tuple[Value, ...], ranges: list) -> bool:
    """One term spans all of R and the other shifts it by an amount that does not depend
    on it: ``x @ w + b``, but not ``z - logsumexp(z)`` (which is <= 0)."""
    if len(values) != 2 or len(ranges) != 2:
        return False
    pairs = list(zip(values, ranges))
    for (term, term_range), (shift, shift_range) in ((pairs[0], pairs[1]), (pairs[1], pairs[0])):
        if term_range is None or not term_range.unbounded or term_range.nan:
            continue
        bounded = shift_range is not None and not shift_range.nan and math.isfinite(shift_range.lo) \
            and math.isfinite(shift_range.hi)
        if (shift_range is None or bounded) and not _shares_an_input(term, shift):
            return True
    return False


def _leaves(value: Value, depth: int = 0, found: set | None = None) -> set:
    """The nodes of the values ``value`` is computed from (operands, a few levels deep)."""
    found = set() if found is None else found
    if value.node is not None:
        found.add(id(value.node))
    if depth < 8:
        for operand in value.operands:
            _leaves(operand, depth + 1, found)
    return found


def _shares_an_input(a: Value, b: Value) -> bool:
    if b.kind in (v.CONST, v.WEIGHT):
        return False  # a weight (a bias) is a parameter of its own, computed from nothing
    mine = _leaves(a)
    if b.kind == v.UNKNOWN:
        return b.node is None or id(b.node) in mine or _mentions_names_of(a, b)
    return bool(mine & _leaves(b))


def _mentions_names_of(a: Value, b: Value) -> bool:
    """An unknown shift written with a name the term is also computed from (``z - lse(z)``)."""
    names = {node.id for node in ast.walk(b.node) if isinstance(node, ast.Name)} if b.node is not None else set()
    term_names = set()
    stack = [a]
    for _ in range(64):
        if not stack:
            break
        value = stack.pop()
        if value.node is not None:
            term_names |= {node.id for node in ast.walk(value.node) if isinstance(node, ast.Name)}
        stack.extend(value.operands)
    return bool(names & term_names)


def _extreme_ends(ranges: "Ranges", operands: tuple[Value, ...], kind: str, ends: list) -> tuple[bool, bool]:
    """Which ends of ``maximum(a, b)`` / ``minimum(a, b)`` the code establishes. Each end
    comes from one operand (an unknown one counts as all of R): established when that
    operand's end is, and, where the other could still move it (an unknown ``eps`` in
    ``maximum(norm, eps)``), only for a literal (``maximum(x, 1e-6)``, ``minimum(p, 1.0)``)."""
    known = [ranges.of(operand) for operand in operands]
    lows = [interval.lo if interval is not None else -math.inf for interval in known]
    highs = [interval.hi if interval is not None else math.inf for interval in known]
    result = []
    for side, values in ((0, lows), (1, highs)):
        pick = max if (kind == "maximum") == (side == 0) else min
        provider = values.index(pick(values))
        other = 1 - provider
        moved_by_other = (kind == "maximum") == (side == 0)  # the other can only push this end further in
        settled = known[other] is not None or operands[provider].kind == v.CONST or not moved_by_other
        result.append(bool(ends[provider][side]) and settled and known[provider] is not None)
    return result[0], result[1]


def _activation_ranges() -> dict:
    from stablelint.analysis import intervals as iv

    # kind: (transfer function, the range whatever the input)
    return {
        "relu6": (iv.relu6, iv.Interval(0.0, 6.0)),
        "softsign": (iv.softsign, iv.Interval(-1.0, 1.0)),
        "hardsigmoid": (iv.hardsigmoid, iv.UNIT),
        "log_sigmoid": (iv.log_sigmoid, iv.Interval(-iv.INF, 0.0)),
        "elu": (iv.elu, iv.Interval(-1.0, iv.INF)),
        "gelu": (iv.gelu, iv.gelu(iv.UNBOUNDED)),
        "silu": (iv.silu, iv.silu(iv.UNBOUNDED)),
    }


_ACTIVATION_RANGES = _activation_ranges()


def _matmul_range(factors: tuple[Value, ...], ranges: list):
    """A matmul spans all of R, unless the signs of both factors are known: a product of
    non-negative matrices is non-negative (``mm(a ** 2, b ** 2)``); a product with a matrix
    of zeros (weights read before any training, ``analysis.initial``) is 0."""
    from stablelint.analysis import intervals as iv

    if any(interval is not None and interval.lo == 0.0 == interval.hi for interval in ranges):
        return iv.point(0.0)

    def sign(factor: Value, interval) -> int:
        if interval is not None:
            return 1 if interval.lo >= 0 else -1 if interval.hi <= 0 else 0
        even_power = factor.kind == v.POW and len(factor.operands) == 2 and factor.operands[1].kind == v.CONST \
            and factor.operands[1].const % 2 == 0
        return 1 if factor.kind in _NONNEGATIVE_WHATEVER_THE_INPUT or even_power else 0

    if len(factors) == 2 and len(ranges) == 2:
        signs = [sign(factor, interval) for factor, interval in zip(factors, ranges)]
        if 0 not in signs:
            return iv.Interval(0.0, iv.INF) if signs[0] == signs[1] else iv.Interval(-iv.INF, 0.0)
    return iv.UNBOUNDED


_NONNEGATIVE_WHATEVER_THE_INPUT = frozenset({"square", "abs", "exp", "norm", "spread", "softplus", "relu", "sigmoid"})


def _rounded(interval, dtype: str):
    """The interval with its finite ends rounded to the nearest ``dtype`` number."""
    if interval is None or dtype in ("float64", "bfloat16"):
        return interval
    from stablelint.analysis import intervals as iv

    code = "e" if dtype == "float16" else "f"

    def near(x: float) -> float:
        if math.isinf(x):
            return x
        try:
            return struct.unpack(code, struct.pack(code, x))[0]
        except (OverflowError, struct.error):
            return math.copysign(math.inf, x)  # beyond the dtype's range

    return iv.Interval(near(interval.lo), near(interval.hi), interval.nan)



# Which end of a value's range the code establishes. ``clamp(x, min=0)`` of an unknown x
# is >= 0 for sure, but how large it gets is as unknown as x: a hazard at the upper end
# (exp overflowing) is not proven by it, one at the lower end (log of 0) is.
_BOTH_ENDS = frozenset({
    v.CONST, v.RANGED, v.LINEAR, "matmul", "randn", "rand", "softmax", "log_softmax", "tanh", "sigmoid",
})
_INCREASING = frozenset({
    "exp", "log", "log1p", "expm1", "sqrt", v.INDEX, "mean", "max", "cumsum", "relu", "elu", "gelu", "silu",
    "log_sigmoid",
})
_BOUNDED_WHATEVER_THE_INPUT = frozenset({"relu6", "softsign", "hardsigmoid"})


def known_ends(ranges: "Ranges", value: Value | None, depth: int = 0) -> tuple[bool, bool]:
    """(lower end established, upper end established) for ``ranges.of(value)``."""
    if value is None or depth > 32 or ranges.of(value) is None:
        return False, False
    kind = value.kind
    if kind in _BOTH_ENDS:
        return True, True
    operands = value.operands

    def ends(index: int) -> tuple[bool, bool]:
        return known_ends(ranges, operands[index], depth + 1) if len(operands) > index else (False, False)

    if kind in _BOUNDED_WHATEVER_THE_INPUT:
        return True, True
    if kind in _INCREASING:
        lo, hi = ends(0)
        return (True if kind in ("relu", "elu", "gelu", "silu") else lo), (True if kind == "log_sigmoid" else hi)
    if kind in ("rsqrt", "reciprocal"):
        lo, hi = ends(0)
        return hi, lo  # decreasing
    if kind == "where" and len(operands) == 2:
        (a_lo, a_hi), (b_lo, b_hi) = ends(0), ends(1)
        return a_lo and b_lo, a_hi and b_hi
    if kind in ("spread", "norm", "softplus", "abs", "square"):
        return True, ends(0)[1] and kind in ("abs", "square")
    if kind == "clamp":
        low, high = value.detail if isinstance(value.detail, tuple) else (None, None)
        lo, hi = ends(0)
        return lo or low is not None, hi or high is not None
    if kind == v.NEG:
        lo, hi = ends(0)
        return hi, lo
    if kind in (v.ADD, v.SUB) and len(operands) == 2:
        if is_affine(value, [ranges.of(operand) for operand in operands]):
            return True, True  # x @ w + b spans all of R, as x @ w does
        (a_lo, a_hi), (b_lo, b_hi) = ends(0), ends(1)
        if kind == v.SUB:
            b_lo, b_hi = b_hi, b_lo
        return a_lo and b_lo, a_hi and b_hi
    if kind in ("sum",):
        lo, hi = ends(0)
        interval = ranges.of(operands[0]) if operands else None
        return lo and interval is not None and interval.lo >= 0, hi and interval is not None and interval.hi <= 0
    if kind in ("maximum", "minimum") and len(operands) == 2:
        # max(a, b) is at least the larger low end: an unknown ``b`` may lift it
        # (``maximum(norm, eps)`` with eps a parameter); it reaches either high end. And the
        # other way round for min.
        return _extreme_ends(ranges, operands, kind, [ends(0), ends(1)])
    if kind in (v.MUL, v.DIV, v.POW):
        every = [end for index in range(len(operands)) for end in ends(index)]
        known = all(every) if every else False
        return known, known
    return False, False
