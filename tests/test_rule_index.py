"""docs/rules/index.md lists every rule; each rule has one docs URL, defined in one place,
naming its page (only where STABLELINT_DOCS_URL says where the pages are served: the
project has no site of its own); every page's References section cites something."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stablelint import DOCS_URL_ENV, docs, rule_doc_path, rule_url
from stablelint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "rules"


def test_index_has_one_row_per_rule_linking_its_page():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert index == docs.render_index()  # generated, like the pages (test_docs checks staleness)
    rows = [line for line in index.splitlines() if line.startswith("| [STB")]
    assert [re.match(r"\| \[(STB\d+)\]\((STB\d+)\.md\)", row).groups() for row in rows] == [
        (rule.code, rule.code) for rule in ALL_RULES
    ]
    for rule, row in zip(ALL_RULES, rows):
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[1] == f"`{rule.name}`"
        assert cells[2] and cells[2] in rule.message.replace("|", "\\|")
        assert cells[-1] == docs.SAFETY[rule.fix_safety]
        assert (DOCS / f"{rule.code}.md").is_file()


def test_without_a_docs_url_no_finding_links_to_a_site(monkeypatch):
    monkeypatch.delenv(DOCS_URL_ENV, raising=False)
    for rule in ALL_RULES:
        assert rule_url(rule.code) is None
        assert (ROOT / rule_doc_path(rule.code)).is_file()  # the page, offline


@pytest.mark.parametrize(
    "base, expected",
    [
        ("https://docs.example.org/stablelint/rules/", "https://docs.example.org/stablelint/rules/STB106.md"),
        ("https://docs.example.org/rules", "https://docs.example.org/rules/STB106.md"),
        ("https://docs.example.org/rules/{code}.html", "https://docs.example.org/rules/STB106.html"),
    ],
)
def test_each_rule_url_is_its_page_under_the_configured_base(monkeypatch, base, expected):
    monkeypatch.setenv(DOCS_URL_ENV, base)
    assert rule_url("STB106") == expected


def test_the_docs_url_is_written_in_one_place():
    # JSON, SARIF, the server and --explain all ask `rule_url`: no module spells out a host.
    hosts = re.compile(r"https?://(?!docs\.oasis-open\.org|[\w.]*example\.org)")
    spelled = [path.relative_to(ROOT).as_posix() for path in (ROOT / "stablelint").rglob("*.py")
               if "docs/rules/" in path.read_text(encoding="utf-8") and hosts.search(path.read_text(encoding="utf-8"))]
    assert spelled == []
    assert "DOCS_URL_ENV" in (ROOT / "stablelint" / "__init__.py").read_text(encoding="utf-8")


def test_every_page_cites_a_reference():
    for rule in ALL_RULES:
        references = docs.rule_sections(rule).get("References", "")
        entries = [line for line in references.splitlines() if line.startswith("- ")]
        assert entries, f"{rule.code} has no references"
        assert all(len(entry) > 10 for entry in entries)
