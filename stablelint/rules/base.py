"""What every rule is made of, and the context a rule sees while it checks a node."""

from __future__ import annotations

import ast
import io
import math
import textwrap
import tokenize
from dataclasses import dataclass
from typing import ClassVar, Iterable

from stablelint import frameworks
from stablelint.analysis import branches, conditions, data_init, outcomes, uses
from stablelint.analysis.failures import GRADIENT_CONSEQUENCES, FailureModel
from stablelint.analysis.intervals import Interval
from stablelint.analysis.magnitudes import accumulates_logs, of_parameters_only
from stablelint.analysis.model import FileModel
from stablelint.analysis.values import Value
from stablelint.dead_assignments import effect_free
from stablelint.definitions import defined_names, same_function, stable_names_called
from stablelint.diagnostics import Diagnostic, Edit, Evidence, Fix, Import, Safety
from stablelint.fixes import imports_what_a_shim_stands_in_for, replace, spell
from stablelint.ir import Op
from stablelint.rules.failures import FAILURES
from stablelint.scopes import Env
from stablelint.syntax import child_nodes, walk


@dataclass(frozen=True)
class Valid:
    """Code the rule must stay silent on (the guarded look-alikes)."""

    code: str
    framework: str = "torch"


@dataclass(frozen=True)
class Invalid:
    """An unstable expression, the fix it must get, and how to execute both."""

    code: str
    fixed: str | None
    framework: str = "torch"
    domain: str = "real"  # the inputs the numeric harness draws: real | gt_minus_one | ...
    unsafe: bool = False  # the fix is applied only with --unsafe-fixes
    variables: tuple[str, ...] = ("x",)  # the inputs the harness feeds


# Each example is linted below these imports; docs show the framework's own lines.
IMPORTS_BY_FRAMEWORK = {
    "torch": "import torch\nimport torch.nn.functional as F\n",
    "numpy": "import numpy as np\nimport scipy.special\n",
    "math": "import math\n",
    "tf": "import tensorflow as tf\n",
    "keras": "import keras\n",
    "jax": "import jax\nimport jax.numpy as jnp\n",
    "optax": "import jax\nimport optax\n",
}
EXAMPLE_PRELUDE = "".join(IMPORTS_BY_FRAMEWORK.values())


class Context:
    """The rules' view of one file's analysis (``analysis.model.FileModel``): the facts of
    values, read at the scope of the node being checked (``env``), and the findings so far."""

    def __init__(self, model: FileModel):
        self.model = model
        self.path = model.path
        self.index = model.index
        self.imports = model.imports
        self.normalizer = model.normalizer
        self.evaluator = model.evaluator
        self.ranges = model.ranges
        self.shapes = model.shapes
        self.assumed_dtype = model.assumed_dtype
        self.env = Env()
        # The project's half-precision setting that reaches this file (``precision_profile.Evidence``).
        self.precision_evidence = model.precision_evidence
        self.gradients = model.gradients
        self.covered: set[int] = set()  # ids of nodes an STB1xx finding already explains
        self.inside_reported_sums: set[int] = set()  # nodes of a sum already reported whole
        self.diagnostics: list[Diagnostic] = []
        self._parents: dict[int, ast.AST] | None = None  # built the first time a fix needs it
        self._paths_to_functions: dict[int, list[ast.AST]] = {}

    # -- reading code
    def value(self, expr: ast.expr | None) -> Value:
        """The abstract value of ``expr`` at the node being checked."""
        return self.model.value(expr, self.env)

    def range(self, value: Value | None):
        """The interval ``value`` can take (``analysis.intervals.Interval``), None if unknown."""
        return self.model.range(value)

    def range_at(self, node: ast.AST | None, expr: ast.expr | None, *, unselected_finite: bool = False):
        """The range of ``expr`` where ``node`` runs: its value's range met with the bounds
        the ``if``/``elif``/``where`` conditions around ``node`` put on it (``analysis.branches``).
        ``unselected_finite``: the caller knows ``node`` is finite at every input (a log of a
        clamped value), so where a ``where`` or a mask does not select it, its gradient is 0."""
        value = self.value(expr) if expr is not None else None
        interval = self.range(value)
        if node is None or expr is None:
            return interval
        # A ``where``'s unselected branch still runs: its bounds hold for the value only (and
        # for the gradient too when that branch is finite everywhere). A mask multiplied in
        # selects only a branch finite everywhere: elsewhere it gives 0 * inf = NaN.
        where = unselected_finite or not self.gradient_flows(node, value)
        bounds = branches.bounds_at(
            self.env.function or self.evaluator.tree, node, expr, where=where, masks=unselected_finite
        )
        return branches.narrowed(interval, bounds)

    def dtype_at(self, node: ast.AST) -> str:
        """The dtype a Python number written at ``node`` ends up in: the one of the nearest
        framework call around it (``torch.clamp(p, 1e-8, 1 - 1e-8)``: float32; ``np.clip``:
        float64), else float32 in a file that uses a deep learning framework, float64 otherwise."""
        path = conditions.path_to(self.env.function or self.evaluator.tree, node) or []
        for parent in reversed(path[:-1]):
            if isinstance(parent, ast.Call):
                op = self.normalizer.op_of(parent, self.env, follow=False)
                if op is not None and op.framework is not None:
                    return self.dtype_of(self.value(parent))
        return self.written_number_dtype

    def dtype_of(self, value: Value) -> str:
        return self.model.dtype_of(value)

    @property
    def written_number_dtype(self) -> str:
        """The dtype a number written in this file meets its operands in."""
        return self.model.written_number_dtype

    def known_ends(self, value: Value | None) -> tuple[bool, bool]:
        """Whether the code establishes the lower and the upper end of ``range(value)``."""
        return self.model.known_ends(value)

    def shape(self, value: Value | None) -> tuple | None:
        """The value's shape (sizes, None where unknown), or None when its rank is unknown."""
        return self.model.shape(value)

    def gradient_flows(self, node: ast.AST | None, value: Value | None = None) -> bool:
        """Can a gradient flow through ``value`` at ``node``? False inside no-grad code, data
        preparation, NumPy/math values and detached values (``analysis.gradients``)."""
        return self.model.gradient_flows(node, value)

    def only_initialises(self, node: ast.AST) -> bool:
        """Does ``node``'s value only set where trained parameters start (``analysis.data_init``)?"""
        return data_init.only_initialises(self.env.function or self.evaluator.tree, node)

    def in_test(self, node: ast.AST | None) -> bool:
        """Does ``node`` run in a test function, on inputs the test writes (``analysis.test_code``)?"""
        return self.model.in_test(node)

    def branch_rules_out(self, node: ast.AST, written: ast.expr | None, hazard: str) -> bool:
        """Does an ``if``/conditional expression/``where`` around ``node`` (or an early exit
        before it) rule ``hazard`` out for the expression ``written`` at ``node``?"""
        if written is None:
            return False
        return self.model.branch_rules_out(self.env.function, node, written, hazard)

    def digits_reach_result(self, node: ast.AST, inputs: tuple[ast.AST, ...] = ()) -> bool:
        """False where ``node``'s value is rounded, only compared with a threshold, or added
        to a term from other inputs right after: its last digits reach nothing
        (``analysis.uses``); ``inputs`` are the expressions it is computed from."""
        return uses.digits_reach_result(self.env.function or self.evaluator.tree, node, inputs)

    def sampled_outcome_probability(self, indexed: Value | None) -> bool:
        """Is ``indexed`` the probability of an action the module draws from the same
        distribution (``analysis.outcomes``)?"""
        return outcomes.sampled_outcome_probability(self.evaluator.tree, indexed)

    def overwritten_unread(self, node: ast.AST) -> bool:
        """Is ``node``'s value assigned to a name bound again before any read (``analysis.uses``)?"""
        return uses.overwritten_unread(self.env.function, node)

    def only_sampled(self, node: ast.AST) -> bool:
        """Is ``node``'s value only handed to a sampler as logits (``analysis.uses``)?"""
        return uses.only_sampled(self.env.function or self.evaluator.tree, node)

    def op(self, expr: ast.expr | None, kind: str | None = None) -> Op | None:
        """The canonical op computing ``expr`` (through definitions); ``op.via`` says how."""
        return self.model.op(expr, self.env, kind)

    def resolve(self, expr: ast.expr, via: list[tuple[str, int]] | None = None) -> ast.expr:
        return self.model.resolve(expr, self.env, via)

    def text(self, node: ast.AST) -> str:
        return self.index.text(node)

    @property
    def uses_a_shim(self) -> bool:
        """Does the file import a NumPy/JAX shim (autograd, trax, CuPy, ``numpy-like``)?"""
        return any(frameworks.shim_of(bound) is not None for bound in self.imports.names.values())

    @property
    def imports_scipy(self) -> bool:
        return self.model.imports_scipy

    @property
    def may_hold_labeled_arrays(self) -> bool:
        """Does the module use pandas or xarray? Then a NumPy formula's operand may be a
        Series or a DataArray, which NumPy's ufuncs keep and SciPy's softmax does not."""
        return any(bound.split(".")[0] in ("pandas", "xarray") for bound in self.imports.names.values())

    def spell(self, qualified_name: str, *, like: Op | None = None) -> tuple[str, tuple[Import, ...]]:
        """Spell a stable function the way this file spells ``like``'s function."""
        from_import = like is not None and isinstance(like.call.func, ast.Name)
        if like is not None and not like.method:
            # Through the module ``like`` was written with: ``onp.log1p`` beside ``onp.log``
            # in a file that also imports autograd's numpy as ``np``, and the other way round.
            root = like.call.func
            while isinstance(root, ast.Attribute):
                root = root.value
            bound = self.imports.names.get(root.id) if isinstance(root, ast.Name) else None
            module = frameworks.SPELLING_ALIASES.get(bound, bound) if bound else None
            same_module = module is not None and qualified_name.rpartition(".")[0] == module
            within = module and qualified_name.startswith(module + ".") and (same_module or self.uses_a_shim)
            if within and not self.env.is_local(root.id):
                return root.id + qualified_name[len(module):], ()
            if self.uses_a_shim:
                shim_package = bound.split(".")[0] if bound and frameworks.shim_of(bound) else ""
                return spell(qualified_name, self.imports, from_import=from_import, shim_package=shim_package)
        return spell(qualified_name, self.imports, from_import=from_import)

    def _rewrites_a_registered_op(self, node: ast.AST, copied: list[ast.AST]) -> bool:
        kept = {id(inner) for outer in copied for inner in ast.walk(outer)}
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and id(inner) not in kept:
                op = self.normalizer.op_of(inner, self.env, follow=False)
                if op is not None and op.registered:
                    return True
        return False

    # -- writing findings
    def fix(
        self,
        node: ast.AST,
        content: str,
        *,
        imports: tuple[Import, ...] = (),
        safety: Safety = "safe",
        via: list[tuple[str, int]] = (),
        copied: Iterable[ast.AST] = (),
        note: str = "",
    ) -> Fix | None:
        """A fix replacing ``node``; ``copied`` are the sub-expressions spliced into it.

        Through a definition (``p = softmax(z)`` … ``log(p)``) the copied code moves from
        the definition to the use: no fix if one of its names was rebound in between,
        and unsafe if it holds a call, which would now run twice.
        """
        copied = list(copied)
        try:
            expression = ast.parse(content, mode="eval").body
        except SyntaxError:
            return None  # e.g. an unusual callee spelling the splice did not foresee
        if self._defines_what_it_calls(node, expression):
            return None
        if via:
            since = min(line for _, line in via)
            copied_nodes = [inner for outer in copied for inner in ast.walk(outer)]
            names = {inner.id for inner in copied_nodes if isinstance(inner, ast.Name)}
            if self.env.rebound_since(names, since, node.lineno):
                return None
            if any(isinstance(inner, ast.Call) for inner in copied_nodes):
                safety = "unsafe"
        if imports_what_a_shim_stands_in_for(self.imports, tuple(imports)):
            return None  # numpy.log1p into autograd code: the gradient would stop there
        if self._rewrites_a_registered_op(node, copied):
            return None  # ``Log(1 + x)`` of the file's op registry: its code is not math.log's
        edit = _without_redundant_parentheses(self.index.source, replace(self.index, node, content), expression)
        edit = _without_own_parentheses(self.index.source, edit)
        if drops_comment(self.index.source[edit.start:edit.end], content):
            safety = "unsafe"
        notes = [note] if note else []
        new_packages = self._new_packages(imports)
        if new_packages:
            # A hard import of a package the module does not import would make it fail where
            # that package is missing (SciPy where the code only used NumPy).
            safety = "unsafe"
            notes.append(f"adds a hard import of {', '.join(new_packages)}, which this module did not import")
        notes.extend(self._kept_assignments(via))
        return Fix(safety, (edit,), tuple(imports), _description(edit.content, notes))

    def _new_packages(self, imports: Iterable[Import]) -> list[str]:
        imported = {
            bound.split(".")[0] for local, bound in self.imports.names.items() if local not in self.imports.optional
        }
        return sorted({item.module.split(".")[0] for item in imports} - imported - _STANDARD_LIBRARY)

    def _defines_what_it_calls(self, node: ast.AST, expression: ast.expr) -> bool:
        """Is ``node`` inside the definition of the stable function the fix would call
        (``def sigmoid(x): return 1 / (1 + exp(-x))``, ``lax.logistic_p: lambda a: ...``
        in a lowering table)? Rewriting it would make the function call itself."""
        called = stable_names_called(expression)
        if not called:
            return False
        return any(same_function(name, called) for name in defined_names(node, self._ancestors(node)))

    def _ancestors(self, node: ast.AST) -> dict[int, ast.AST]:
        """The parent of each of ``node``'s ancestors, by the child's id: found along the lines
        down to it from the function being walked (whose own path is found once), or, where
        line ranges do not lead to it (a decorator stands above its ``def``), read from a map
        of the whole tree, built the first time."""
        tree, function = self.evaluator.tree, self.env.function
        inner = conditions.path_to(function or tree, node)
        if inner is not None and function is not None:
            outer = self._paths_to_functions.get(id(function))
            if outer is None:
                outer = self._paths_to_functions[id(function)] = conditions.path_to(tree, function) or []
            inner = outer[:-1] + inner if outer else None
        if inner is not None:
            return {id(child): parent for parent, child in zip(inner, inner[1:])}
        if self._parents is None:
            self._parents = {id(child): parent for parent in walk(tree) for child in child_nodes(parent)}
        return self._parents

    def _kept_assignments(self, via: list[tuple[str, int]]) -> list[str]:
        """Notes for the names the fix reads whose assignment may do more than compute the
        value: that assignment stays even once no use of it is left."""
        kept = []
        for name, line in via:
            definition = self.env.definition(name)
            if definition is not None and not effect_free(definition[0], self.imports):
                kept.append(f"`{name}` (line {line})")
        if not kept:
            return []
        return [f"the assignment of {', '.join(kept)} stays: its right-hand side may have other effects"]


_STANDARD_LIBRARY = frozenset({"math", "functools", "operator"})


def _description(content: str, notes: list[str]) -> str:
    """The fix's title with what the user should know about it ("" for the default title)."""
    if not notes:
        return ""
    replacement = f"Replace with `{content}`" if "\n" not in content and len(content) <= 80 else "Rewrite"
    return "; ".join([replacement, *notes])


def _origin_within(value: Value, depth: int = 0) -> str | None:
    """Where a value came from, or the first of its operands that says (``0.5 * logvar``
    with ``logvar`` received from a call site)."""
    if value.origin or depth > 3:
        return value.origin
    for operand in value.operands:
        origin = _origin_within(operand, depth + 1)
        if origin:
            return origin
    return None


def _without_redundant_parentheses(source: str, edit: Edit, expression: ast.expr) -> Edit:
    """``(exp(x) - 1)`` becomes ``expm1(x)``, not ``(expm1(x))``: grouping parentheses
    around the replaced expression go when the replacement is an atom (a call, a name),
    which needs none. Call parentheses (``f(exp(x) - 1)``) stay."""
    start, end = edit.start, edit.end
    if start == 0 or end >= len(source) or source[start - 1] != "(" or source[end] != ")":
        return edit
    before = source[: start - 1].rstrip()
    if before and (before[-1].isalnum() or before[-1] in "_)]}\"'"):
        return edit  # a call, a subscript's call, or a keyword such as ``not`` or ``in``
    if not isinstance(expression, (ast.Call, ast.Name, ast.Attribute, ast.Subscript)):
        return edit
    return Edit(start - 1, end + 1, edit.content)


def _without_own_parentheses(source: str, edit: Edit) -> Edit:
    """A fix written as ``(a - b)`` loses its parentheses where the expression stands alone:
    a whole right-hand side, a returned value, an argument or an element."""
    content = edit.content
    if not (content.startswith("(") and content.endswith(")")):
        return edit
    try:
        inner = ast.parse(content[1:-1], mode="eval").body
    except SyntaxError:
        return edit  # the parentheses are not one pair around the whole
    if not isinstance(inner, ast.BinOp):
        return edit
    before = source[: edit.start].rstrip(" \t")
    after = source[edit.end:].lstrip(" \t")
    alone_before = before.endswith(("(", ",", "[", "\n")) or (
        before.endswith("=") and not before.endswith(("==", "<=", ">=", "!="))
    ) or before.endswith("return") and not before[-7:-6].isidentifier()
    alone_after = after == "" or after[0] in "),]\n\r#"
    if alone_before and alone_after:
        return Edit(edit.start, edit.end, content[1:-1])
    return edit


def drops_comment(replaced: str, content: str) -> bool:
    """Does the replaced text hold a comment that the new text does not carry over?"""
    if "#" not in replaced:
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(replaced).readline))
    except (tokenize.TokenError, SyntaxError):
        return True
    return any(token.type == tokenize.COMMENT and token.string not in content for token in tokens)


class Rule:
    """A rule: its code, message, doc (the class docstring), examples, and ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    fix_safety: ClassVar[str]  # "safe", "unsafe", "sometimes" (see the doc's Fix safety), or "none"
    on: ClassVar[tuple[str, ...]] = ()  # checked at every value computed by these canonical ops
    half_precision: ClassVar[bool] = False  # checked on every line of a file that may compute in half
    autocast: ClassVar[str] = ""  # what torch.autocast does to the original and to the fix (docs)
    valid: ClassVar[list[Valid]] = []
    invalid: ClassVar[list[Invalid]] = []

    def check(self, node: ast.AST, value: Value, ctx: Context) -> None:
        """Report findings at ``node``, whose value (one of the ``on`` ops) is ``value``."""
        raise NotImplementedError

    @classmethod
    def doc(cls) -> str:
        return textwrap.dedent(cls.__doc__ or "").strip()

    @classmethod
    def failure_models(cls) -> tuple[FailureModel, ...]:
        """How the rule's formula fails (``rules/failures.py``), tried in order."""
        return FAILURES.get(cls.code, ())

    def evidence(
        self, ctx: Context, node: ast.AST, operands: dict[str, Value | Interval] | None = None,
        dtype: str | None = None, models: tuple[FailureModel, ...] | None = None,
    ) -> tuple[Evidence | None, bool]:
        """``(evidence, real)``: the consequence at a witness inside the operands' proven ranges,
        and whether it is real there. Not real: the proven ranges hold no input where the
        formula fails, or the consequence is a gradient's and no gradient flows at ``node``.
        ``models``: the failure models that apply at this use (default: all of the rule's)."""
        models = self.failure_models() if models is None else models
        if not models:
            return None, True
        dtype = dtype or ctx.dtype_of(ctx.value(node) if isinstance(node, ast.expr) else Value("unknown"))
        ranges = {name: proven_range(ctx, operand) for name, operand in (operands or {}).items()}
        written = {
            name: ctx.text(operand.node) for name, operand in (operands or {}).items()
            if isinstance(operand, Value) and operand.node is not None and ctx.text(operand.node) != name
        }
        flows = ctx.gradient_flows(node)
        accumulating = frozenset(
            name for name, operand in (operands or {}).items()
            if isinstance(operand, Value) and accumulates_logs(operand)
        )
        # Unknown values of everyday magnitude: a test's own inputs, values of trained parameters alone.
        if ctx.in_test(node):
            everyday = frozenset(name for model in models for name in model.variables)
        else:
            everyday = frozenset(
                name for name, operand in (operands or {}).items()
                if isinstance(operand, Value) and of_parameters_only(operand)
            )
        # The code's dtype; a model written for half precision (STB5xx) is tried in its own too.
        half = (model.example_dtype for model in models if model.example_dtype in ("float16", "bfloat16"))
        for tried in dict.fromkeys((dtype, *half)):
            for model in models:
                found = model.evidence(
                    tried, ranges, written=written, gradient_flows=flows, accumulating=accumulating,
                    everyday=everyday,
                )
                if found is not None:
                    return found, True
        # No witness: real only if nothing the analysis knows rules it out (the model's limit),
        # and unconstrained code plausibly reaches the failure region in this dtype.
        constrained = any(interval is not None for interval in ranges.values())
        gradient_only = all(model.consequence in GRADIENT_CONSEQUENCES for model in models)
        reachable = all(model.reachable_unproven(dtype, accumulating, everyday) for model in models)
        return None, not constrained and reachable and not (gradient_only and not flows)

    def report(
        self,
        ctx: Context,
        node: ast.AST,
        fix: Fix | None,
        via: list[tuple[str, int]] = (),
        *,
        origins: Iterable[Value] = (),
        message: str | None = None,
        operands: dict[str, Value | Interval] | None = None,
        dtype: str | None = None,
        models: tuple[FailureModel, ...] | None = None,
    ) -> None:
        """One finding at ``node``; the message says where its values came from: the
        names followed (``via``) and, for ``origins`` reached from outside the scope, how.
        ``operands`` bind the failure model's variables to the values (or ranges) they stand for
        here; the finding carries the evidence, and is not reported where the consequence is
        not real. ``models`` narrows or orders the rule's failure models for this use."""
        if ctx.overwritten_unread(node):
            return  # the name it is assigned to is bound again before any read: it reaches nothing
        evidence, real = self.evidence(ctx, node, operands, dtype, models)
        if not real:
            return
        if evidence is not None and evidence.consequence == "digits-lost" and ctx.only_initialises(node):
            return  # the digits set a trained parameter's starting point: training moves it
        start, end = ctx.index.span(node)
        line, col = ctx.index.column(start)
        end_line, end_col = ctx.index.column(end)
        message = message or self.message
        said = []
        if via:
            name, def_line = via[0]
            said.append(f"{name} is defined on line {def_line}")
        for value in origins:
            # A range comes from the operands too: the interval rules say where they came from.
            origin = _origin_within(value) if self.code.startswith("STB4") else value.origin
            if origin and origin not in said:
                said.append(origin)
        if said:
            message = f"{message} ({'; '.join(said)})"
        if fix is None and self.fix_safety != "none" and any(not value.local and value.origin for value in origins):
            message += "; not fixed: the value is computed elsewhere"
        if self.code.startswith("STB1") and self.code not in ("STB106", "STB107"):
            # The interval rules (STB4xx) stay silent where this finding already explains the node.
            ctx.covered.add(id(node))
            ctx.covered.update(id(value.node) for value in origins if value.node is not None)
        ctx.diagnostics.append(
            Diagnostic(ctx.path, line, col, end_line, end_col, self.code, message, fix, evidence=evidence)
        )


def proven_range(ctx: Context, operand: Value | Interval | None) -> Interval | None:
    """The range the code establishes for ``operand``: an end that comes from something unknown
    is no bound (±inf); None when neither end is established."""
    if isinstance(operand, Interval) or operand is None:
        return operand
    interval = ctx.range(operand)
    if interval is None:
        return None
    low, high = ctx.known_ends(operand)
    if not (low or high):
        return None
    return Interval(interval.lo if low else -math.inf, interval.hi if high else math.inf)
