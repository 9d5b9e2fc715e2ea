"""Which binding a read sees where the name is bound in loops and branches
(``FunctionFacts.reaching_in_block``): the plain assignment before the read in its own
block, or in a block around it; nothing where another binding may come between."""

from __future__ import annotations

import ast
import textwrap

import pytest

from stablelint.analysis.summaries import PARAMETER, FunctionFacts, SourceLines, last_appended
from stablelint.scopes import BranchJoin


def _reached(code: str, name: str = "logvar") -> str | None:
    source = textwrap.dedent(code)
    function = ast.parse(source).body[0]
    read = next(line for line, text in enumerate(source.splitlines(), start=1) if "read(" in text)
    found = FunctionFacts(function, SourceLines(source)).reaching_in_block(name, read)
    if found is None or found == PARAMETER:
        return found
    value = found[0]
    if isinstance(value, BranchJoin):  # said as the conditional expression it stands for
        value = ast.IfExp(test=value.test, body=value.body, orelse=value.orelse)
    return f"{ast.unparse(value)} @{found[1]}"


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


def test_a_parameter_read_before_any_binding_is_the_parameter():
    assert _reached("""
        def f(x, cuda):
            if cuda:
                read(x)
                x = x.cuda()
        """, "x") == PARAMETER
    found = _reached("""
        def f(x, cuda):
            if cuda:
                x = x.cuda()
            read(x)
        """, "x")
    assert found == "x.cuda() if cuda else x @4"


def test_one_arm_of_an_if_joins_its_binding_with_the_one_before():
    found = _reached("""
        def f(loader, cuda):
            model = Model()
            if cuda:
                model = model.cuda()
            for x in loader:
                read(model)
        """, "model")
    assert found == "model.cuda() if cuda else Model() @5"
    found = _reached("""
        def f(loader, bounded):
            for x in loader:
                logvar = head(x)
                if bounded:
                    logvar = logvar.tanh()
                read(logvar)
        """)
    assert found == "logvar.tanh() if bounded else head(x) @6"


@pytest.mark.parametrize("code", [
    """
    def f(cuda):
        model = Model()
        if cuda:
            model = model.cuda()
            model = model.half()
        read(model)
    """,
    """
    def f(cuda):
        model = Model()
        if cuda:
            model = model.cuda()
        else:
            model = Other()
        read(model)
    """,
    """
    def f(cuda):
        if cuda:
            model = Model()
        read(model)
    """,
])
def test_an_if_binding_twice_or_in_both_arms_or_with_nothing_before_is_not_joined(code):
    assert _reached(code, "model") is None


def _last(code: str):
    source = textwrap.dedent(code)
    function = ast.parse(source).body[0]
    use = next(line for line, text in enumerate(source.splitlines(), start=1) if "Sequential" in text)
    found = last_appended(function, "layers", use)
    return None if found is None else ast.unparse(found)


def test_the_last_append_before_the_use_is_the_last_layer():
    assert _last("""
        def f(sizes):
            layers = []
            for a, b in zip(sizes, sizes[1:]):
                layers.append(Linear(a, b))
                layers.append(ReLU())
            layers.append(Linear(sizes[-1], 1))
            net = Sequential(*layers)
        """) == "Linear(sizes[-1], 1)"


@pytest.mark.parametrize("code", [
    """
    def f(more):
        layers = [Linear(2, 2)]
        layers.append(Linear(2, 1))
        layers.extend(more)
        net = Sequential(*layers)
    """,
    """
    def f(bounded):
        layers = []
        layers.append(Linear(2, 1))
        if bounded:
            layers.append(Tanh())
        net = Sequential(*layers)
    """,
    """
    def f(bounded):
        layers = []
        layers.append(Linear(2, 1))
        if bounded:
            net = Sequential(*layers)
    """,
])
def test_a_list_changed_or_used_in_a_block_after_the_append_is_not_followed(code):
    assert _last(code) is None
