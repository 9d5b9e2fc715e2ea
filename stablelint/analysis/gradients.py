"""Gradient context: where no gradient is ever taken of a value.

A hazard that lives only in the gradient (``sqrt(var) + eps``: an infinite derivative at zero
variance; ``sqrt(sum(x ** 2))`` at 0; the unselected branch of a ``where``) is no hazard where
no gradient flows:

- inside ``with torch.no_grad():``, ``torch.inference_mode()``, ``torch.set_grad_enabled(False)``
  and functions decorated with them;
- in functions that initialise weights (``init_weights``, ``reset_parameters``,
  ``normalized_columns_initializer``);
- in a module's ``infer`` method beside its ``forward`` (the generation pass of a flow or TTS
  model);
- in data loading and preparation: ``Dataset.__getitem__`` and the other methods of a
  ``Dataset``/``DataModule``/``Sampler``/transform class, ``collate`` functions, and functions
  whose name says they prepare data (``preprocess``, ``normalize_features``, ``load_...``);
- for values computed by NumPy or ``math`` (they are not differentiated, autograd aside),
  values cut from the graph with ``.detach()``, ``stop_gradient`` or ``.numpy()``, and random
  draws (``torch.randn``, ``tf.random.normal``, ``jax.random.uniform``): fresh leaves that no
  gradient reaches, in a file that never asks for one on a tensor of its own
  (``requires_grad``, ``tape.watch``);
- for values only read through ``.item()``, ``float()``, ``.tolist()``, a comparison or
  ``print``, or rounded to whole numbers (``round``, ``.long()``: a derivative of 0), after any
  number of reductions and names (a convergence test, a predicted duration).

``GradientContext.flows(node, value)`` says False where one of these holds, and True
otherwise (a gradient may flow: the default of code that trains).
"""

from __future__ import annotations

import ast
import re
from typing import Iterable

from stablelint.analysis import values as v
from stablelint.analysis.conditions import path_to
from stablelint.analysis.uses import reads_in
from stablelint.analysis.values import Value
from stablelint.syntax import statements, walk

# Calls whose ``with`` block or decorator switch gradients off.
_NO_GRAD_CALLS = frozenset({"no_grad", "inference_mode", "enable_grad_off"})
_SET_GRAD = "set_grad_enabled"
# Classes whose methods load or prepare data (bases and names): no gradient is taken there.
_DATA_CLASS = re.compile(
    r"(?:\w*Dataset|\w*DataModule|\w*DataLoader|\w*Sampler|\w*Transform|\w*Transforms|\w*Preprocessor"
    r"|\w*Augment\w*|\w*Collator|\w*FeatureExtractor|\w*Tokenizer)"
)
_DATA_FUNCTION = re.compile(
    r"(?:__getitem__|__iter__|__next__|collate\w*|\w*_collate\w*|preprocess\w*|\w*_preprocess\w*|pre_process\w*"
    r"|prepare_data\w*|prepare_\w*data\w*|load_\w*|read_\w*|transform_\w*|augment\w*|normalize_(?:features|data|input"
    r"|inputs|image|images|audio|dataset)\w*|standardi[sz]e\w*|featurize\w*|make_dataset\w*|build_dataset\w*"
    r"|get_batch\w*|generate_data\w*|synthetic\w*)"
)
# Functions that initialise weights: what they compute is written into parameters, not
# differentiated (``nn.init`` runs under no_grad; ``normalized_columns_initializer``).
_INIT_FUNCTION = re.compile(
    r"(?:\w*initiali[sz]er\w*|_?init_weights?\w*|weights?_init\w*|reset_parameters|initiali[sz]e_weights?\w*"
    r"|init_params\w*|init_parameters\w*)"
)
# Calls that cut a value from the graph.
_DETACHING = frozenset({"detach", "stop_gradient", "numpy", "item", "tolist", "cpu_numpy", "detach_"})
_NOT_DIFFERENTIATED = frozenset({"numpy", "math"})
_DRAWS = frozenset({"randn", "rand"})
# Attributes and keywords by which code asks for a gradient of a tensor it made itself.
_ASKS_FOR_GRADIENT = frozenset({"requires_grad", "requires_grad_", "watch"})


class GradientContext:
    """The regions of one file where no gradient flows, found the first time they are asked for."""

    def __init__(self, tree: ast.Module, imports, source: str | None = None) -> None:
        self._tree = tree
        self._imports = imports
        self._source = source  # the file's text: a word it does not hold is in no node
        self._regions: list[tuple[int, int, str]] | None = None
        self._asks_for_gradient: bool | None = None

    def flows(self, node: ast.AST | None, value: Value | None = None) -> bool:
        """Can a gradient flow through ``value`` computed at ``node``?"""
        return self.reason_none_flows(node, value) is None

    def reason_none_flows(self, node: ast.AST | None, value: Value | None = None) -> str | None:
        """Why no gradient flows at ``node`` through ``value`` (a phrase), or None."""
        if value is not None:
            said = _value_reason(value, draws_are_leaves=not self.asks_for_gradient)
            if said is not None:
                return said
        if node is None or not hasattr(node, "lineno"):
            return None
        if only_read_without_gradient(self._tree, node):
            return "its value is only read as a number (.item(), a comparison)"
        if self._regions is None:
            self._regions = list(self._find())
        for first, last, reason in self._regions:
            if first <= node.lineno <= last:
                return reason
        return None

    @property
    def asks_for_gradient(self) -> bool:
        """Does the file ask for a gradient of a tensor it made (``requires_grad``, ``watch``)?"""
        if self._asks_for_gradient is None:
            source = self._source
            self._asks_for_gradient = (
                source is None or not source.isascii() or any(word in source for word in _ASKS_FOR_GRADIENT)
            ) and any(
                isinstance(node, ast.Attribute) and node.attr in _ASKS_FOR_GRADIENT
                or isinstance(node, ast.keyword) and node.arg in _ASKS_FOR_GRADIENT
                for node in walk(self._tree)
            )
        return self._asks_for_gradient

    def _find(self) -> Iterable[tuple[int, int, str]]:
        for node in statements(self._tree):
            if isinstance(node, (ast.With, ast.AsyncWith)) and node.body:
                for item in node.items:
                    if self._switches_off(item.context_expr):
                        yield node.body[0].lineno, node.end_lineno or node.lineno, "inside a no-grad block"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                first, last = node.body[0].lineno, node.end_lineno or node.lineno
                if any(self._switches_off(decorator) for decorator in node.decorator_list):
                    yield first, last, f"{node.name} runs without gradients"
                elif _DATA_FUNCTION.fullmatch(node.name):
                    yield first, last, f"{node.name} prepares data"
                elif _INIT_FUNCTION.fullmatch(node.name):
                    yield first, last, f"{node.name} initialises weights"
            elif isinstance(node, ast.ClassDef):
                bases = [_last_name(base) for base in node.bases]
                if _DATA_CLASS.fullmatch(node.name) or any(_DATA_CLASS.fullmatch(base) for base in bases if base):
                    yield node.lineno, node.end_lineno or node.lineno, f"{node.name} prepares data"
                methods = {
                    item.name: item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                }
                infer = methods.get("infer")
                if infer is not None and infer.body and ("forward" in methods or "call" in methods):
                    # A module's ``infer`` beside its ``forward``: the generation pass of a flow or
                    # TTS model (WaveGlow, Flowtron), run without gradients; ``forward`` trains.
                    yield infer.body[0].lineno, infer.end_lineno or infer.lineno, f"{node.name}.infer runs at inference"

    def _switches_off(self, expr: ast.expr) -> bool:
        call = expr if isinstance(expr, ast.Call) else None
        func = call.func if call is not None else expr
        name = _last_name(func)
        qualified = self._imports.qualified_name(func) or ""
        if name in _NO_GRAD_CALLS:
            return qualified.startswith("torch") or name in ("no_grad", "inference_mode")
        if name == _SET_GRAD and call is not None and call.args:
            flag = call.args[0]
            return isinstance(flag, ast.Constant) and flag.value is False
        return False


# Where a value stops being a tensor: its reads take no gradient.
_READ_AS_NUMBER_METHODS = frozenset({"item", "tolist", "numpy", "long", "int", "round", "floor", "ceil"})
_READ_AS_NUMBER_CALLS = frozenset({
    "float", "int", "bool", "print", "isnan", "isinf", "isfinite", "allclose", "isclose",
    # rounded to a whole number (a predicted duration, a count): the derivative is 0
    "round", "floor", "ceil", "trunc",
    # logged, not differentiated: TensorBoard, Lightning, wandb, logging
    "add_scalar", "add_scalars", "add_histogram", "log_dict", "info", "debug", "warning",
})
# Reductions and elementwise functions a read goes through on its way to a number.
_PASSED_THROUGH = frozenset({
    "max", "min", "amax", "amin", "sum", "mean", "abs", "sqrt", "square", "pow", "norm", "clamp", "clip",
    "cpu", "detach", "squeeze", "flatten", "view", "reshape", "any", "all", "log", "exp",
})


def only_read_without_gradient(tree: ast.AST, node: ast.AST, depth: int = 0) -> bool:
    """Is the value of ``node`` only read as a number — through ``.item()``, ``float()``, a
    comparison or ``print``, after reductions and names bound to it in its function (a
    convergence test: ``norms = sqrt(...)``; ``if norms.max().item() < tol: break``)?"""
    path = path_to(tree, node)
    if path is None or depth > 3:
        return False
    function = next((p for p in reversed(path) if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef))), tree)
    child = node
    for parent in reversed(path[:-1]):
        if isinstance(parent, (ast.Compare, ast.FormattedValue)):
            return True  # compared, or formatted into a string
        if isinstance(parent, ast.Attribute) and parent.value is child:
            child = parent
            continue
        if isinstance(parent, ast.Call):
            name = _last_name(parent.func)
            if parent.func is child:  # ``child`` is ``value.method``
                if name in _READ_AS_NUMBER_METHODS:
                    return True
                if name not in _PASSED_THROUGH:
                    return False
            elif any(argument is child for argument in parent.args):
                if name in _READ_AS_NUMBER_CALLS:
                    return True
                if name not in _PASSED_THROUGH:
                    return False
            else:
                return False
            child = parent
            continue
        if isinstance(parent, (ast.BinOp, ast.UnaryOp)) or isinstance(parent, ast.Subscript) and parent.value is child:
            child = parent
            continue
        if isinstance(parent, ast.Assign) and parent.value is child and len(parent.targets) == 1:
            target = parent.targets[0]
            if not isinstance(target, ast.Name):
                return False
            reads = [read for read, _ in reads_in(function).get(target.id, [])]
            return bool(reads) and all(only_read_without_gradient(function, read, depth + 1) for read in reads)
        return False
    return False


def _last_name(expr: ast.expr) -> str:
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    return ""


def _value_reason(value: Value, depth: int = 0, draws_are_leaves: bool = False) -> str | None:
    """No gradient flows through a NumPy/math value, nor one cut from the graph, nor a random
    draw (where ``draws_are_leaves``): said of the value itself or of every operand it is
    computed from."""
    if depth > 8:
        return None
    if value.framework in _NOT_DIFFERENTIATED:
        return f"{value.framework} takes no gradient"
    if draws_are_leaves and value.kind in _DRAWS:
        return "a random draw takes no gradient"
    node = value.node
    if value.detached or isinstance(node, ast.Call) and _last_name(node.func) in _DETACHING:
        return "the value is detached from the graph"
    if value.kind in (v.CONST, v.RANGED):
        return "a constant takes no gradient"
    if not value.operands or value.kind in (v.UNKNOWN, v.MODULE, v.LINEAR):
        return None
    reasons = [_value_reason(operand, depth + 1, draws_are_leaves) for operand in value.operands]
    if all(reasons):
        return next((reason for reason in reasons if "constant" not in reason), reasons[0])
    return None
