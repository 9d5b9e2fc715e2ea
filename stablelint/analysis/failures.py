"""Failure models: what a rule's formula gives at which input, in which dtype.

A rule's ``FailureModel`` holds its original formula and the stable form over named
variables (``log(1 + x)``, ``log1p(x)``), the consequence the rule is about, and the inputs
where it happens (the failure region, most plausible first, per dtype). Given the range the
analysis proves for each variable (``None``: unknown), ``FailureModel.evidence`` looks for a
witness inside that range — the region's inputs that lie in it, and the range's own ends —
evaluates both formulas there in the dtype (``numbers``), and returns the ``Evidence`` when
the consequence is real: inf/NaN in the value, in the gradient (where a gradient may flow),
more than half of the dtype's digits lost, or a wrong result. None means: not real over
the proven range — the finding is a false alarm.

Where a variable's range is unknown, a region input stands for it only where code plausibly
computes such a value (``plausible_unproven``). A model with ``exp_limits`` fails at exp's over-
and underflow bounds: past float32's (88.7, 104) any logit goes, past float64's (709.8, 745.1)
only a value that accumulates logs (``analysis.magnitudes``). A model with ``proven_only`` claims nothing
of an unknown value: that it is small enough (the digits lost next to 1 of ``log(1 + x)``,
``exp(x) - 1``) or large enough (an ``exp`` past its overflow before a clamp) is no everyday
fact; its witness lies in a range the code establishes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from stablelint.analysis import numbers
from stablelint.analysis.intervals import SMALLEST_NORMAL, Interval, rounded
from stablelint.analysis.magnitudes import FLOAT64_EVERYDAY
from stablelint.diagnostics import Evidence, Witness

# Decimal digits each dtype holds (significand bits × log10 2).
DIGITS = {"float16": 11 * math.log10(2), "bfloat16": 8 * math.log10(2), "float32": 24 * math.log10(2),
          "float64": 53 * math.log10(2)}
GRADIENT_CONSEQUENCES = ("nan-gradient", "inf-gradient")
# Named points of each dtype a failure region is written with (``overflow`` is exp's bound).
_EXP_OVERFLOW = {"float16": 11.09, "bfloat16": 88.72, "float32": 88.72, "float64": 709.78}

Inputs = dict  # variable -> float or tuple of floats


@dataclass(frozen=True)
class FailureModel:
    """How a rule's formula fails; see the module doc."""

    original: str
    stable: str  # "" where there is no stable form of the same formula (a hazard of the input)
    consequence: str
    region: Callable[[str], list[Inputs]]  # dtype -> inputs in the failure region, most plausible first
    words: str  # the failure model in words, for ``--explain``
    example_dtype: str = "float32"
    proven_only: bool = False  # the consequence is claimed only over a proven range
    exp_limits: bool = False  # the region lies past exp's over- or underflow bound in each dtype
    # The float64 region lies at magnitudes no everyday value has (a mean 1e8 times the spread):
    # like an ``exp_limits`` model's, an unknown variable goes there only where it accumulates
    # logs or its proven range says so.
    float64_magnitudes: bool = False

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.region(self.example_dtype)[0])

    def evidence(
        self, dtype: str, ranges: dict[str, Interval | None] | None = None, *,
        written: dict[str, str] | None = None, gradient_flows: bool = True, plausible_only: bool = True,
        accumulating: frozenset[str] = frozenset(), everyday: frozenset[str] = frozenset(),
    ) -> Evidence | None:
        """The consequence at a witness inside ``ranges`` (per variable), or None when the
        consequence is not real there (or is a gradient's where no gradient flows). With
        ``plausible_only``, an unknown variable's witness is one code plausibly computes;
        ``accumulating`` names the variables that accumulate logs (``analysis.magnitudes``);
        ``everyday`` names the variables whose unknown value is of everyday magnitude (a test's
        own input, a value of trained parameters alone: ``analysis.magnitudes``)."""
        if self.consequence in GRADIENT_CONSEQUENCES and not gradient_flows:
            return None
        ranges = ranges or {}
        proven = self.proven_only and plausible_only
        if proven and self.consequence == "digits-lost":
            candidates = self._ends(dtype, ranges)
        else:  # the region's inputs and the range's ends; an unknown variable's are dropped below
            candidates = self._candidates(dtype, ranges)
        for inputs in candidates:
            if plausible_only and not self.plausible_unproven(inputs, ranges, dtype, accumulating, everyday):
                continue
            inputs = {name: _held(value, dtype) for name, value in inputs.items()}
            found = self.judge(inputs, dtype)
            if found is not None:
                shown = _range_text(ranges)
                witness = Witness(
                    tuple(inputs.items()), self.original, self.stable, found[0], found[1],
                    of="gradient" if self.consequence in GRADIENT_CONSEQUENCES else "value",
                    written=tuple((written or {}).items()),
                )
                return Evidence(
                    dtype, self.consequence, witness, found[2], DIGITS[dtype] if found[2] is not None else None,
                    shown, self.consequence in GRADIENT_CONSEQUENCES,
                )
        return None

    def example(self) -> Evidence | None:
        """The witness of an unconstrained input in ``example_dtype`` (for the docs: the
        failure region itself, whether or not code would need a proven range to reach it)."""
        return self.evidence(self.example_dtype, plausible_only=False)

    def plausible_unproven(
        self, inputs: Inputs, ranges: dict[str, Interval | None], dtype: str,
        accumulating: frozenset[str] = frozenset(), everyday: frozenset[str] = frozenset(),
    ) -> bool:
        """Is ``inputs`` a value code plausibly computes for the variables ``ranges`` leaves
        unknown? Never for a ``proven_only`` model, nor for an ``exp_limits`` model where an
        ``everyday`` variable lies where its range has no finite end (past exp's bounds is no
        everyday magnitude: an end the code establishes must say it goes there); for an
        ``exp_limits`` or ``float64_magnitudes`` model in float64, an input past
        ``FLOAT64_EVERYDAY`` only for a variable that accumulates logs (or whose proven range
        holds it)."""
        unknown = [name for name in inputs if ranges.get(name) is None]
        if unknown and self.proven_only:
            return False
        if self.exp_limits and any(
            name in everyday and not _established(value, ranges.get(name)) for name, value in inputs.items()
        ):
            return False
        if not ((self.exp_limits or self.float64_magnitudes) and dtype == "float64"):
            return True
        return all(name in accumulating or _everyday(value, ranges.get(name)) for name, value in inputs.items())

    def reachable_unproven(
        self, dtype: str, accumulating: frozenset[str] = frozenset(), everyday: frozenset[str] = frozenset(),
    ) -> bool:
        """Does the failure region in ``dtype`` hold an input unconstrained code plausibly computes?"""
        return any(
            self.plausible_unproven(inputs, {}, dtype, accumulating, everyday) for inputs in self.region(dtype)
        )

    # -- the search
    def _ends(self, dtype: str, ranges: dict[str, Interval | None]):
        """For a ``proven_only`` model (digits lost next to 1): the proven range must lie where
        more than half of the dtype's digits go, throughout (its largest magnitude below
        10^(-digits/2), where about log10(1/|x|) are lost). The witness is an input of the range
        where the rounding shows it: its largest end first (where the fewest go), then points
        below it (the rounding of one input can happen to be kind), then the region's."""
        names = self.variables
        if len(names) != 1 or ranges.get(names[0]) is None:
            return
        interval = ranges[names[0]]
        if not (math.isfinite(interval.lo) and math.isfinite(interval.hi)):
            return
        largest = max(interval.lo, interval.hi, key=abs)
        if largest == 0 or abs(largest) >= 10 ** (-DIGITS[dtype] / 2):
            return
        for scale in (1.0, 0.9, 0.75, 0.6, 0.5, 0.35, 0.25, 0.1):
            if interval.lo <= largest * scale <= interval.hi:
                yield {names[0]: largest * scale}
        for inputs in self.region(dtype):
            if _inside(inputs[names[0]], interval):
                yield inputs

    def _candidates(self, dtype: str, ranges: dict[str, Interval | None]):
        region = self.region(dtype)
        for inputs in region:
            if all(_inside(value, ranges.get(name)) for name, value in inputs.items()):
                yield inputs
        # The ends of a proven range, where the region's own points fall outside it.
        if not region or not any(ranges.get(name) is not None for name in region[0]):
            return
        # Each of the region's inputs in turn: the other variables keep the region's values
        # (the target of a saturated loss is 1 on one side and 0 on the other).
        for point in region:
            for name, value in point.items():
                interval = ranges.get(name)
                if interval is None:
                    continue
                ends = [end for end in (interval.hi, interval.lo) if math.isfinite(end)]
                if len(ends) == 2:
                    ends.append((interval.lo + interval.hi) / 2)
                for end in ends:
                    other = dict(point)
                    other[name] = (interval.lo, interval.hi) if isinstance(value, tuple) else end
                    if all(_inside(v, ranges.get(n)) for n, v in other.items()):
                        yield other

    def judge(self, inputs: Inputs, dtype: str) -> tuple[object, object, float | None] | None:
        """(original's value, stable's value, digits lost) where the consequence shows at
        ``inputs``, else None."""
        return _judged(self, tuple(inputs.items()), dtype)

    def _judge(self, inputs: Inputs, dtype: str) -> tuple[object, object, float | None] | None:
        if self.consequence in GRADIENT_CONSEQUENCES:
            of = next(iter(inputs))
            original = numbers.gradient(self.original, inputs, dtype, of)
            stable = numbers.gradient(self.stable, inputs, dtype, of) if self.stable else None
            bad = math.isnan if self.consequence == "nan-gradient" else math.isinf
            if any(bad(g) for g in original) and (stable is None or all(math.isfinite(g) for g in stable)):
                return _shown(original), _shown(stable), None
            return None
        original = numbers.evaluate(self.original, inputs, dtype).values
        stable = numbers.evaluate(self.stable, inputs, dtype).values if self.stable else None
        exact = numbers.evaluate(self.stable or self.original, inputs, "float64").values
        if stable is not None and not _close(stable, exact, dtype):
            return None  # the stable form fails too: no witness of the rule's point here
        digits = None
        if self.consequence == "overflow":
            real = any(math.isinf(o) and not math.isinf(e) for o, e in zip(original, exact))
        elif self.consequence == "underflow":
            real = any((math.isinf(o) or o == 0) and math.isfinite(e) and e != 0 for o, e in zip(original, exact))
        elif self.consequence == "nan":
            real = any(math.isnan(o) and not math.isnan(e) for o, e in zip(original, exact))
            real = real or (stable is None and any(math.isnan(o) for o in original))
        elif self.consequence == "digits-lost":
            digits = max(_digits_lost(o, e, dtype) for o, e in zip(original, exact))
            real = digits > DIGITS[dtype] / 2
        else:  # wrong-result
            real = any(not _agree(o, e) for o, e in zip(original, exact))
        if self.consequence in ("overflow", "underflow", "nan") and stable is None:
            real = real or any(not math.isfinite(o) for o in original)
        return (_shown(original), _shown(stable), digits) if real else None


@lru_cache(maxsize=4096)
def _judged(model: FailureModel, inputs: tuple, dtype: str) -> tuple[object, object, float | None] | None:
    """`FailureModel.judge`, once per model, inputs and dtype: a rule's findings meet the same
    few witness inputs."""
    return model._judge(dict(inputs), dtype)


def _held(value, dtype: str):
    """The input as the dtype holds it: the witness is that number, not the one written."""
    if isinstance(value, tuple):
        return tuple(_held(item, dtype) for item in value)
    return value if math.isnan(value) else rounded(value, dtype)


def _everyday(value, interval: Interval | None) -> bool:
    """Is every item of ``value`` within ``FLOAT64_EVERYDAY``, or past it only on a side where
    ``interval`` has a finite end (the code establishes how far it goes)?"""
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if math.isnan(item) or abs(item) <= FLOAT64_EVERYDAY:
            continue
        end = None if interval is None else (interval.hi if item > 0 else interval.lo)
        if end is None or not math.isfinite(end):
            return False
    return True


def _established(value, interval: Interval | None) -> bool:
    """Does ``interval`` have a finite end on the side of every item of ``value`` (the code
    establishes how far the variable goes there)?"""
    if interval is None:
        return False
    items = value if isinstance(value, tuple) else (value,)
    return all(
        math.isfinite(interval.hi if item > 0 else interval.lo) for item in items if not math.isnan(item) and item != 0
    )


def _shown(values):
    if values is None:
        return None
    return values[0] if len(values) == 1 else tuple(values)


def _inside(value, interval: Interval | None) -> bool:
    if interval is None:
        return True
    items = value if isinstance(value, tuple) else (value,)
    return all(interval.lo <= item <= interval.hi for item in items)


def _range_text(ranges: dict[str, Interval | None]) -> str | None:
    known = {name: interval for name, interval in ranges.items() if interval is not None}
    if not known:
        return None
    return ", ".join(f"{name} in {interval}" for name, interval in known.items())


def _close(value, exact, dtype: str) -> bool:
    """The stable form's value is right: the exact one's non-finite values, at least half of the
    dtype's digits elsewhere (absolutely, below the smallest normal number)."""
    return all(
        (math.isnan(v) and math.isnan(e)) or (math.isinf(e) and v == e) or (
            math.isfinite(v) and math.isfinite(e) and (
                abs(e) < SMALLEST_NORMAL[dtype] and abs(v - e) <= SMALLEST_NORMAL[dtype]
                or _digits_lost(v, e, dtype) <= DIGITS[dtype] / 2))
        for v, e in zip(value, exact)
    )


def _agree(value: float, exact: float) -> bool:
    if math.isnan(value) or math.isnan(exact):
        return math.isnan(value) and math.isnan(exact)
    return abs(value - exact) <= 1e-2 * max(1.0, abs(exact))


def _digits_lost(value: float, exact: float, dtype: str) -> float:
    """How many of the dtype's decimal digits ``value`` gets wrong (all where it is not finite)."""
    if not math.isfinite(value) or not math.isfinite(exact):
        return DIGITS[dtype] if value != exact else 0.0
    if value == exact:
        return 0.0
    error = abs(value - exact) / max(abs(exact), 2.0 ** -1022)
    correct = -math.log10(error) if error > 0 else DIGITS[dtype]
    return min(DIGITS[dtype], max(0.0, DIGITS[dtype] - correct))


def det_leaves_range_from(dtype: str) -> int:
    """The smallest n at which the determinant of an n x n matrix whose eigenvalues lie in
    [1e-3, 1e3] can leave ``dtype``'s normal range (13 in float32, 103 in float64, 2 in
    float16): a smaller matrix's det over- or underflows only with extreme entries."""
    return math.ceil(-math.log10(SMALLEST_NORMAL[dtype]) / 3)


def exp_overflow(dtype: str) -> float:
    """The argument past which exp overflows in ``dtype`` (rounded to two decimals)."""
    return _EXP_OVERFLOW[dtype]
