"""SARIF 2.1.0, the format GitHub code scanning reads: one run, the rules in the tool's
driver (each with its page as help), one result per finding with its fix.

Columns are 1-based and count characters, as stablelint's do (``columnKind``
``unicodeCodePoints``); a path below the current directory is given relative to it
(``%SRCROOT%``), which is how code scanning matches results to the checkout.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path
from typing import Iterable

from stablelint import __version__, rule_url
from stablelint.format import FileReport, Positions, file_region, fix_edits, fix_message, level

SCHEMA_URL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"


def sarif_report(reports: Iterable[FileReport]) -> str:
    rules = _driver_rules()
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for report in reports:
        positions = Positions(report.source)
        location = _artifact_location(report.path)
        for diagnostic in report.diagnostics:
            line, col, end_line, end_col = file_region(report, diagnostic)
            message = diagnostic.message
            if diagnostic.cell is not None:  # the region is in the notebook's JSON: say where in the cell
                message = f"cell {diagnostic.cell}:{diagnostic.line}:{diagnostic.col}: {message}"
            result = {
                "ruleId": diagnostic.code,
                "level": level(diagnostic.code),
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": {
                                "startLine": line,
                                "startColumn": col,
                                "endLine": end_line,
                                "endColumn": end_col,
                            },
                        }
                    }
                ],
            }
            if diagnostic.code in index:
                result["ruleIndex"] = index[diagnostic.code]
            if diagnostic.evidence is not None:
                result["properties"] = {"evidence": diagnostic.evidence.to_dict()}
            # A notebook's fix edits its code, not the JSON the region is in: none is given
            # (`stablelint --fix` writes notebooks).
            if diagnostic.fix is not None and report.cells is None:
                result["fixes"] = [_fix(diagnostic, report.source, positions, location)]
            results.append(result)
    run = {
        "tool": {
            "driver": {
                "name": "stablelint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": Path.cwd().as_uri() + "/"}},
        "results": results,
    }
    log = {"$schema": SCHEMA_URL, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _artifact_location(path: str) -> dict:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    if relative.startswith(".."):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": urllib.parse.quote(Path(relative).as_posix()), "uriBaseId": SOURCE_ROOT}


def _fix(diagnostic, source: str, positions: Positions, location: dict) -> dict:
    replacements = []
    for edit in fix_edits(diagnostic.fix, source):
        start, end = positions.location(edit.start), positions.location(edit.end)
        replacement = {
            "deletedRegion": {
                "startLine": start["row"],
                "startColumn": start["column"],
                "endLine": end["row"],
                "endColumn": end["column"],
            }
        }
        if edit.content:
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    return {
        "description": {"text": fix_message(diagnostic)},
        "artifactChanges": [{"artifactLocation": location, "replacements": replacements}],
        "properties": {"applicability": diagnostic.fix.safety},
    }


def _driver_rules() -> list[dict]:
    from stablelint.docs import page_text, rule_sections
    from stablelint.rules import ALL_RULES

    rules = []
    for rule in ALL_RULES:
        sections = rule_sections(rule)
        page = page_text(rule)
        entry = {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.message},
            "fullDescription": {"text": sections.get("What it does", rule.message)},
            "help": {"text": page, "markdown": page},
            "defaultConfiguration": {"level": level(rule.code)},
            "properties": {"tags": ["numerical-stability"], "fix_safety": rule.fix_safety},
        }
        url = rule_url(rule.code)  # the page is in `help` either way
        if url:
            entry["helpUri"] = url
        rules.append(entry)
    return rules
