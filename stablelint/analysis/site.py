"""The place a fact about written code is asked at (the protocol the analysis's readers of
code — signs, maxima, counts — need; ``rules.base.Context`` is one)."""

from __future__ import annotations

import ast
from typing import Protocol

from stablelint.ir import ImportTable, Op


class Site(Protocol):
    """What a fact about written code needs: the scope at the node (``env``), the import
    table, and the canonical op / definition behind an expression there. ``rules.base.Context``
    is one."""

    env: object
    imports: ImportTable

    def op(self, expr: ast.expr | None, kind: str | None = None) -> Op | None: ...

    def resolve(self, expr: ast.expr, via: list[tuple[str, int]] | None = None) -> ast.expr: ...
