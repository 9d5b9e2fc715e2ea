"""docs/rules/ is generated from the rules: a stale page fails here."""

from pathlib import Path

import pytest

from stablelint import docs
from stablelint.rules import ALL_RULES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


@pytest.mark.parametrize(("name", "text"), sorted(docs.pages().items()), ids=lambda value: value[:12])
def test_page_is_current(name, text):
    page = DOCS / name
    assert page.exists(), f"{page} is missing: run python -m stablelint.docs"
    assert page.read_text(encoding="utf-8") == text, f"{page} is stale: run python -m stablelint.docs"


def test_every_rule_has_a_page_with_every_section():
    for rule in ALL_RULES:
        text = (DOCS / f"{rule.code}.md").read_text(encoding="utf-8")
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety", "## References"):
            assert section in text, (rule.code, section)


def test_check_mode_reports_a_stale_page(tmp_path):
    assert docs.main(["--out", str(tmp_path)]) == 0
    assert docs.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "STB101.md").write_text("edited by hand\n", encoding="utf-8")
    assert docs.main(["--check", "--out", str(tmp_path)]) == 1
