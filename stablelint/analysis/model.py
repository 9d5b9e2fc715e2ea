"""One file's analysis, built once by the engine and read by every rule.

The engine parses a file and builds its ``FileModel``: the normalizer (ast -> canonical
ops), the evaluator (one abstract value per expression), the autocast regions, and the
facts of values — ranges, dtypes, shapes, whether a gradient flows. Rules see it through
``rules.base.Context``, a thin view that adds the scope at the node being checked and the
findings written so far. Facts are decided here, once, not in the rules.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from stablelint.analysis import conditions
from stablelint.analysis import intervals as iv
from stablelint.analysis.evaluate import Evaluator, Ranges, dtype_of, known_ends
from stablelint.analysis.gradients import GradientContext
from stablelint.analysis.registry import OpRegistry
from stablelint.analysis.shapes import Shapes
from stablelint.analysis.test_code import TestCode
from stablelint.analysis.values import Value
from stablelint.ir import ImportTable, Normalizer, Op, SourceIndex

if TYPE_CHECKING:
    from stablelint.analysis.intervals import Interval

_DEEP_LEARNING = ("torch", "tensorflow", "jax", "keras", "flax", "trax")


class FileModel:
    """The analysis of one file: values, ranges, dtypes, shapes, autocast, gradient context, test code."""

    def __init__(
        self, path: str, index: SourceIndex, imports: ImportTable, tree: ast.Module | None = None,
        dtype: str | None = None, registry: OpRegistry | None = None,
    ):
        self.path = path
        self.index = index
        self.imports = imports
        self.tree = tree if tree is not None else ast.Module([], [])
        self.normalizer = Normalizer(imports)
        # Op classes and registry dicts of the file (``OPS["log"](x)``): the engine's, or built here.
        self.normalizer.registry = registry if registry is not None else OpRegistry(self.tree, imports)
        self.evaluator = Evaluator(self.normalizer, self.tree, index.text, index.source)
        self.autocast = self.evaluator.autocast
        self.assumed_dtype = dtype  # ``assume-dtype``: what the frameworks' tensors compute in here
        self.ranges = Ranges(dtype, self.autocast)
        self.shapes = Shapes(imports)
        self.gradients = GradientContext(self.tree, imports, index.source)
        self.test_code = TestCode(self.tree, path)
        # The project's half-precision setting that reaches this file (``precision_profile.Evidence``),
        # set by the engine from the project index.
        self.precision_evidence = None
        bound_modules = {bound.split(".")[0] for bound in imports.names.values()}
        # An optional binding (``special = try_import("scipy.special")``) is spelled through,
        # but it does not make a SciPy fix safe: the module runs where SciPy is missing.
        self.imports_scipy = any(
            bound.startswith("scipy") for local, bound in imports.names.items() if local not in imports.optional
        )
        self.deep_learning = bool(bound_modules.intersection(_DEEP_LEARNING))

    # -- values and their facts
    def value(self, expr: ast.expr | None, env) -> Value:
        """The abstract value of ``expr`` in scope ``env``."""
        return self.evaluator.of(expr, env)

    def range(self, value: Value | None) -> Interval | None:
        """The interval ``value`` can take, None if unknown."""
        return self.ranges.of(value)

    def known_ends(self, value: Value | None) -> tuple[bool, bool]:
        """Whether the code establishes the lower and the upper end of ``range(value)``."""
        return known_ends(self.ranges, value)

    def dtype_of(self, value: Value) -> str:
        """The float dtype ``value`` computes in (a cast, ``dtype=``, autocast, NumPy's float64,
        else the ``assume-dtype`` setting or float32)."""
        return dtype_of(value, self.assumed_dtype, self.autocast)

    @property
    def written_number_dtype(self) -> str:
        """The dtype a number written in the code meets its operands in: the frameworks'
        (``assume-dtype`` or float32) in a file that imports one, else float64 (NumPy, Python)."""
        return (self.assumed_dtype or iv.DEFAULT_DTYPE) if self.deep_learning else "float64"

    def shape(self, value: Value | None) -> tuple | None:
        """The value's shape (sizes, None where unknown), or None when its rank is unknown."""
        return self.shapes.of(value)

    def gradient_flows(self, node: ast.AST | None, value: Value | None = None) -> bool:
        """Can a gradient flow through ``value`` at ``node``? False inside no-grad code, data
        preparation, NumPy/math values and detached values (``analysis.gradients``)."""
        return self.gradients.flows(node, value)

    def in_test(self, node: ast.AST | None) -> bool:
        """Does ``node`` run in a test function, on inputs the test writes (``analysis.test_code``)?"""
        return self.test_code.contains(node)

    # -- written code
    def op(self, expr: ast.expr | None, env, kind: str | None = None) -> Op | None:
        """The canonical op computing ``expr`` (through definitions); ``op.via`` says how."""
        if expr is None:
            return None
        op = self.normalizer.op_of(expr, env)
        if op is None or (kind is not None and op.kind != kind):
            return None
        return op

    def resolve(self, expr: ast.expr, env, via: list[tuple[str, int]] | None = None) -> ast.expr:
        return self.normalizer.resolve(expr, env, via)

    def branch_rules_out(self, function: ast.AST | None, node: ast.AST, written: ast.expr, hazard: str) -> bool:
        """Does an ``if``/conditional expression/``where`` around ``node`` in ``function`` (or an
        early exit before it) rule ``hazard`` out for the expression ``written``?"""
        return conditions.guarded(function or self.tree, node, written, hazard)
