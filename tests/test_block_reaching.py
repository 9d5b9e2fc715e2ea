"""Which binding a read sees where the name is bound in loops and branches
(``FunctionFacts.reaching_in_block``): the plain assignment before the read in its own
block, or in a block around it; nothing where another binding may come between."""

from __future__ import annotations

import ast
import textwrap

import pytest

from stablelint.analysis.summaries import FunctionFacts, SourceLines


def _reached(code: str, name: str = "logvar") -> str | None:
    source = textwrap.dedent(code)
    function = ast.parse(source).body[0]
    read = next(line for line, text in enumerate(source.splitlines(), start=1) if "read(" in text)
    found = FunctionFacts(function, SourceLines(source)).reaching_in_block(name, read)
    return None if found is None else f"{ast.unparse(found[0])} @{found[1]}"


@pytest.mark.parametrize("code, expected", [
    ("""
     def f(loader):
         for x in loader:
             mu, logvar = enc(x)
             read(logvar)
     """, "enc(x)[1] @4"),
    ("""
     def f(loader):
         for x in loader:
             logvar = head(x)
             if x:
                 read(logvar)
     """, "head(x) @4"),
    ("""
     def f(loader, first):
         logvar = first
         for x in loader:
             if x:
                 read(logvar)
     """, "first @3"),
])
def test_the_assignment_before_the_read_in_its_block_reaches_it(code, expected):
    assert _reached(code) == expected


@pytest.mark.parametrize("code", [
    """
    def f(loader, bounded):
        for x in loader:
            logvar = head(x)
            if bounded:
                logvar = logvar.tanh()
            read(logvar)
    """,
    """
    def f(loader, first):
        logvar = first
        for x in loader:
            read(logvar)
            logvar = head(x)
    """,
    """
    def f(loader):
        for x in loader:
            logvar = head(x)
            logvar += 1
            read(logvar)
    """,
    """
    def f(loader):
        for x in loader:
            logvar = head(x)
            logvar.clamp_(max=10)
            read(logvar)
    """,
    """
    def f(loader):
        for logvar in loader:
            read(logvar)
    """,
])
def test_a_binding_that_may_come_between_leaves_it_unknown(code):
    assert _reached(code) is None
