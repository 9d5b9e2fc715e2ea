"""Every rule's own examples are its tests: lint them, fix them, fix them again."""

from __future__ import annotations

import ast
import re

import pytest

from stablelint.engine import check_source, fix_source
from stablelint.rules import ALL_RULES
from stablelint.rules.base import EXAMPLE_PRELUDE


def statement(code: str) -> str:
    return code if "\n" in code or re.match(r"^\s*\w+\s*=[^=]", code) else f"y = {code}"


# The prelude's names are read elsewhere in the module, as in real code: a fix that drops
# an example's last use of ``np`` does not remove ``import numpy`` here (test_fix_dead_code.py
# proves that removal on its own).
PRELUDE_IN_USE = "FRAMEWORKS = (torch, F, np, scipy, math, tf, keras, jax, jnp, optax)\n"


def module(code: str) -> str:
    return EXAMPLE_PRELUDE + PRELUDE_IN_USE + statement(code) + "\n"


INVALID = [pytest.param(rule, example, id=f"{rule.code}-{example.code}") for rule in ALL_RULES for example in rule.invalid]
VALID = [pytest.param(rule, example, id=f"{rule.code}-{example.code}") for rule in ALL_RULES for example in rule.valid]


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_invalid_example_is_reported_once(rule, example):
    source = module(example.code)
    diagnostics = check_source(source, "example.py")
    assert [(d.code, d.line) for d in diagnostics] == [(rule.code, source.count("\n"))]
    expected_col = len("y = ") + 1 if statement(example.code).startswith("y = ") else None
    if expected_col:
        assert diagnostics[0].col == expected_col


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_invalid_example_gets_its_fix(rule, example):
    source = module(example.code)
    outcome = fix_source(source, "example.py", unsafe=example.unsafe)
    expected = module(example.fixed) if example.fixed else source
    assert outcome.source == expected
    ast.parse(outcome.source)
    if example.unsafe:
        assert fix_source(source, "example.py").source == source, "unsafe fix applied without --unsafe-fixes"
    again = fix_source(outcome.source, "example.py", unsafe=True)
    assert again.applied == 0 and again.source == outcome.source, "fix is not idempotent"
    left = [d for d in again.remaining if d.code == rule.code]
    assert len(left) == (0 if example.fixed else 1)


@pytest.mark.parametrize(("rule", "example"), VALID)
def test_valid_example_is_silent(rule, example):
    diagnostics = check_source(module(example.code), "example.py")
    assert [d for d in diagnostics if d.code == rule.code] == []


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rule_is_complete(rule):
    assert re.fullmatch(r"STB\d{3}", rule.code)
    assert rule.fix_safety in ("safe", "unsafe", "sometimes", "none")
    if rule.fix_safety == "none":
        assert all(example.fixed is None for example in rule.invalid), "a rule without fixes has an example fix"
    sections = re.findall(r"^## (.+)$", rule.doc(), flags=re.M)
    assert sections == ["What it does", "Why is this bad?", "Fix safety", "References"]
    assert len(rule.valid) >= 3 and len(rule.invalid) >= 3
    frameworks = {example.framework for example in rule.invalid}
    if getattr(rule, "gradient_only", False) or getattr(rule, "no_numpy_example", False):
        frameworks.add("numpy")  # a hazard of the gradient (NumPy takes none), or of float32 only
    # Losses have no NumPy/SciPy form: their rules cover the frameworks that have losses.
    assert {"torch", "numpy"} <= frameworks or (rule.code.startswith("STB3") and bool(frameworks))


def test_codes_and_names_are_unique():
    assert len({rule.code for rule in ALL_RULES}) == len(ALL_RULES)
    assert len({rule.name for rule in ALL_RULES}) == len(ALL_RULES)
