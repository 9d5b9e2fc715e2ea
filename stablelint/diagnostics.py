"""The values that flow from the rules to the front-ends: findings and their fixes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Safety = Literal["safe", "unsafe"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``source[start:end]`` (character offsets) with ``content``."""

    start: int
    end: int
    content: str


@dataclass(frozen=True, slots=True)
class Import:
    """An import a fix needs: ``import module`` or ``from module import name``."""

    module: str
    name: str | None = None
    asname: str | None = None


@dataclass(frozen=True, slots=True)
class Fix:
    safety: Safety
    edits: tuple[Edit, ...]
    imports: tuple[Import, ...] = ()
    description: str = ""


# What goes wrong at the witness: inf/NaN in the value or its gradient, digits lost, or a
# different result (the quadrant of atan, inv(A) @ b against solve).
CONSEQUENCES = ("overflow", "underflow", "nan", "nan-gradient", "inf-gradient", "digits-lost", "wrong-result")


def _number(value, digits: int = 3) -> str:
    """Three significant digits, more where a vector's distinct elements would look equal;
    ``[0.001] * 16`` for a repeated element."""
    if isinstance(value, (tuple, list)):
        if len(value) > 3 and len(set(value)) == 1:
            return f"[{_number(value[0])}] * {len(value)}"
        while digits < 17 and len({_number(item, digits) for item in value}) < len(set(value)):
            digits += 1
        return "[" + ", ".join(_number(item, digits) for item in value) + "]"
    if value is None:
        return "none"
    text = f"{value:.{digits}g}"
    return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(text, text)


@dataclass(frozen=True, slots=True)
class Witness:
    """An input at which the original formula fails, and what it and the stable form give
    there. ``inputs`` bind the formulas' variables (a float, or a tuple for a vector);
    ``written`` says which expression of the code a variable stands for (``x`` for
    ``h @ w``). With ``of="gradient"`` the values are the gradients with respect to the
    first input."""

    inputs: tuple[tuple[str, object], ...]
    original: str  # the formula, canonical spelling (``log(1 + x)``)
    stable: str  # its stable form (``log1p(x)``); "" where the rule offers none
    original_value: object
    stable_value: object = None
    of: str = "value"  # or "gradient"
    written: tuple[tuple[str, str], ...] = ()

    def text(self, dtype: str) -> str:
        """``at x = 1e-07 (float32): log(1 + x) = 1.19e-07, log1p(x) = 1e-07``"""
        names = {name: text for name, text in self.written if len(text) <= 40 and "\n" not in text}
        at = ", ".join(f"{names.get(name, name)} = {_number(value, 3 if name not in ('a', 'b', 'd') else 6)}"
                       for name, value in self.inputs)
        first = self.inputs[0][0] if self.inputs else ""
        d = f"d/d{_atom(names.get(first, first))} " if self.of == "gradient" and self.inputs else ""
        said = f"{d}{_spelled(self.original, names)} = {_number(self.original_value)}"
        if self.stable:
            said += f", {d}{_spelled(self.stable, names)} = {_number(self.stable_value)}"
        return f"at {at} ({dtype}): {said}"

    def to_dict(self) -> dict:
        return {
            "inputs": {name: _plain(value) for name, value in self.inputs},
            "original": self.original, "stable": self.stable, "original_value": _plain(self.original_value),
            "stable_value": _plain(self.stable_value), "of": self.of, "written": dict(self.written),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Witness":
        return cls(
            tuple((name, _unplain(value)) for name, value in data["inputs"].items()),
            data["original"], data["stable"], _unplain(data["original_value"]), _unplain(data["stable_value"]),
            data.get("of", "value"), tuple(data.get("written", {}).items()),
        )


def _atom(text: str) -> str:
    return text if re.fullmatch(r"[\w.]+", text) else f"({text})"


def _spelled(formula: str, names: dict[str, str]) -> str:
    """The formula with its variables spelled as the code writes them (``log(softmax(logits))``)."""
    if not names:
        return formula
    return re.sub(r"\b[a-z]+\b", lambda match: _atom(names[match.group()]) if match.group() in names else match.group(),
                  formula)


def _plain(value):
    """JSON has no inf/nan: those are written as strings."""
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    return value


def _unplain(value):
    if isinstance(value, list):
        return tuple(_unplain(item) for item in value)
    return float(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a finding is real: the consequence, in which dtype, at which input (computed by
    the rule's failure model from the operand's abstract value)."""

    dtype: str
    consequence: str  # one of CONSEQUENCES
    witness: Witness | None = None
    digits_lost: float | None = None  # for digits-lost: of the dtype's ``digits`` decimal digits
    digits: float | None = None
    range: str | None = None  # the operand's proven range, None where the code does not bound it
    gradient: bool = False  # the consequence is in the gradient (and a gradient may flow here)

    def text(self) -> str:
        """One line: ``digits-lost (7 of 7 float32 digits): at x = 1e-07 (float32): …``"""
        head = self.consequence
        if self.digits_lost is not None and self.digits is not None:
            head += f" ({self.digits_lost:.0f} of {self.digits:.0f} {self.dtype} digits)"
        else:
            head += f" in {self.dtype}"
        if self.range:
            head += f", operand in {self.range}"
        return f"{head}: {self.witness.text(self.dtype)}" if self.witness else head

    def to_dict(self) -> dict:
        return {
            "dtype": self.dtype, "consequence": self.consequence,
            "witness": self.witness.text(self.dtype) if self.witness else None,
            "witness_input": self.witness.to_dict() if self.witness else None,
            "digits_lost": self.digits_lost, "digits": self.digits, "range": self.range, "gradient": self.gradient,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Evidence":
        witness = data.get("witness_input")
        return cls(
            data["dtype"], data["consequence"], Witness.from_dict(witness) if witness else None,
            data.get("digits_lost"), data.get("digits"), data.get("range"), data.get("gradient", False),
        )


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. ``line`` and ``col`` are 1-based; ``col`` counts characters."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    message: str
    fix: Fix | None = field(default=None, compare=False)
    cell: int | None = None  # in a notebook: the cell (1-based among all cells); line and col are in it
    evidence: Evidence | None = field(default=None, compare=False)  # what goes wrong, where, in which dtype

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.col, self.code)


class ParseError(Exception):
    """The source could not be parsed; ``str(self)`` is a one-line reason. (Here, not in
    the engine, so that the command can name it without loading the rules.)"""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.line = line
        self.col = col


class StablelintError(Exception):
    """A problem with the user's input (bad option, bad config): reported, exit code 2."""
