"""Codes a selection names must name rules: ``--select STB999``, a typo such as
``STB016``, or an empty ``--select`` would otherwise silently report nothing.

A code or prefix is valid when some rule's code starts with it (``STB``, ``STB1``,
``STB10``, ``STB106``); the rules are read from the registry at run time, so a new
family is valid as soon as its rules are registered. The flake8 plugin does not use
this: flake8 owns its own ``--select``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from stablelint.config import Settings
from stablelint.diagnostics import StablelintError


@lru_cache(maxsize=1)
def rule_codes() -> tuple[str, ...]:
    from stablelint.rules import ALL_RULES

    return tuple(sorted(rule.code for rule in ALL_RULES))


def known(codes: Iterable[str], where: str, *, empty_ok: bool = True) -> list[str]:
    """``codes``, each checked to match a rule; one error line for the first that does not.
    The codes the rule modules declare are read from their text first (as the cache reads
    them: a re-run the cache answers never imports the rules); the registry is asked only
    for a code they do not have."""
    from stablelint.cache import rule_codes as declared_codes

    codes = list(codes)
    if not codes and not empty_ok:
        raise StablelintError(f"{where}: no codes given (it would report nothing); e.g. STB1 or STB101")
    for code in codes:
        if not _matches(code, tuple(declared_codes())) and not _matches(code, rule_codes()):
            raise StablelintError(f"{where}: '{code}' matches no rule{_hint(code)}; `stablelint rules` lists them")
    return codes


def _matches(code: str, rules: tuple[str, ...]) -> bool:
    return code.startswith(rules) or any(rule.startswith(code) for rule in rules)


def _hint(code: str) -> str:
    """The nearest code or prefix of the same length, among difflib's close matches
    (``STB016`` -> ``STB106``, one swap away, not difflib's first, ``STB401``)."""
    candidates = sorted({rule[: len(code)] for rule in rule_codes()})
    import difflib  # only for a code that matches no rule

    close = difflib.get_close_matches(code, candidates, n=len(candidates), cutoff=0.6)
    if not close:
        return ""
    # Fewest slips first; among those, the same digits in another order (a swap is the
    # likelier slip); then difflib's order (min keeps it).
    best = min(close, key=lambda candidate: (_slips(code, candidate), sorted(candidate) != sorted(code)))
    return f" (did you mean {best}?)"


def _slips(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one slip (optimal string alignment)."""
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


def check_config(settings: Settings) -> None:
    """The codes of the config file (its selection layer and per-file-ignores)."""
    if settings.config_file is None:
        return
    where = f"{settings.config_file}: [tool.stablelint]"
    for layer in settings.selections[1:]:
        if layer.select is not None:
            known(layer.select, f"{where} select", empty_ok=False)
        known(layer.extend_select, f"{where} extend-select")
        known(layer.ignore, f"{where} ignore")
    for pattern, codes in settings.per_file_ignores:
        known(codes, f'{where} per-file-ignores."{pattern}"')
