"""The output formats through the real command on real files: concise/text with ruff's
[*], full with the source underlined, GitHub workflow commands, SARIF 2.1.0 (validated
against the official schema, vendored here), JSON's docs URL and fix message, and
--show-fixes.

tests/sarif-schema-2.1.0.json is the OASIS schema (2.1.0 errata 01) as published in
oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json: no network at test time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_cli import run

from stablelint import cli, rule_url
from stablelint.rules import ALL_RULES

SCHEMA = Path(__file__).resolve().parent / "sarif-schema-2.1.0.json"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"

# Line 5: a safe fix (STB101); line 6: an unsafe one (STB102, NumPy, needs scipy.special);
# lines 7-8: a finding over two lines; line 9: a tab before it and a non-ASCII string.
MODEL = (
    "import numpy as np\n"
    "import torch\n"
    "\n"
    "def loss(x, z):\n"
    "    a = torch.log(torch.softmax(x, dim=1))\n"
    "    b = np.log(np.sum(np.exp(log_p)))\n"
    "    c = torch.log(\n"
    "        torch.sigmoid(x))\n"
    "\td = 'é'; e = torch.exp(1e-5 * torch.tanh(x)) - 1\n"
    "    return a, b, c, d, e\n"
)
# MODEL's tab is not valid indentation after spaces: the function indents with a tab.
MODEL = MODEL.replace("    ", "\t")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    return tmp_path


def findings(capsys) -> list[dict]:
    return json.loads(run(capsys, "--format", "json", "model.py")[1])


# -- concise / text


def test_text_marks_what_fix_would_fix_and_concise_is_the_same(project, capsys):
    code, out, _ = run(capsys, "model.py")
    assert code == 1
    lines = {line.split(":")[1]: line for line in out.splitlines()}
    assert lines["5"].startswith("model.py:5:6: STB101 [*] log(softmax(x))")
    assert lines["6"].startswith("model.py:6:6: STB102 log(sum(exp(x)))")  # unsafe: not with plain --fix
    assert run(capsys, "--format", "concise", "model.py")[1] == out
    unsafe_out = run(capsys, "--unsafe-fixes", "model.py")[1]
    assert "model.py:6:6: STB102 [*] " in unsafe_out


def test_a_finding_without_a_fix_is_not_marked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.py").write_text("import torch\ny = torch.log(torch.relu(torch.randn(3)))\n")
    out = run(capsys, "--extend-select", "STB4", "h.py")[1]
    assert out.startswith("h.py:2:5: STB401 ") and "[*]" not in out


# -- full


def source_row(entry: list[str], number: int, text: str) -> tuple[int, str]:
    """Where line ``number`` stands in a full entry, and the gutter under it (``  |``)."""
    for index, line in enumerate(entry):
        gutter, bar, rest = line.partition(" | ")
        if bar and gutter.strip() == str(number):
            assert rest == text
            return index, " " * len(gutter) + " |"
    raise AssertionError(f"line {number} not shown in {entry}")


def test_full_underlines_the_finding_under_its_own_columns(project, capsys):
    code, out, _ = run(capsys, "--format", "full", "model.py")
    assert code == 1
    entries = out.strip("\n").split("\n\n")
    assert len(entries) == len(findings(capsys))
    first = entries[0].splitlines()
    assert first[0].startswith("STB101 [*] log(softmax(x))")
    assert first[1] == " --> model.py:5:6"  # ruff's arrow, the gutter's width to the left
    row, gutter = source_row(first, 5, "\ta = torch.log(torch.softmax(x, dim=1))")
    # The tab is kept under the line, so the carets stand exactly under the call.
    assert first[row + 1] == gutter + " \t    " + "^" * len("torch.log(torch.softmax(x, dim=1))")
    assert first[-1] == "help: Replace with `torch.log_softmax(x, dim=1)`"


def test_full_underlines_every_line_of_a_multi_line_finding_and_says_unsafe(project, capsys):
    entries = run(capsys, "--format", "full", "model.py")[1].strip("\n").split("\n\n")
    by_code = {entry.split()[0]: entry.splitlines() for entry in entries}
    stb104 = by_code["STB104"]
    assert stb104[0].startswith("STB104 [*] ")
    row7, gutter = source_row(stb104, 7, "\tc = torch.log(")
    assert stb104[row7 + 1] == gutter + " \t    " + "^" * len("torch.log(")
    row8, gutter = source_row(stb104, 8, "\t\ttorch.sigmoid(x))")
    assert stb104[row8 + 1] == gutter + " \t\t" + "^" * len("torch.sigmoid(x))")
    row9, _ = source_row(stb104, 9, "\td = 'é'; e = torch.exp(1e-5 * torch.tanh(x)) - 1")  # context: no carets
    assert row9 == row8 + 2 and "^" not in stb104[row9 + 1]
    stb102 = by_code["STB102"]
    assert stb102[0].startswith("STB102 log(sum")  # no [*]: the fix is unsafe
    assert stb102[-1] == (
        "help: Replace with `scipy.special.logsumexp(log_p)`; adds a hard import of scipy, which this module did not "
        "import (unsafe: with `--unsafe-fixes`)"
    )


# -- github


ANNOTATION = re.compile(r"^::(?P<level>error|warning) (?P<properties>[^:]*)::(?P<message>.*)$")


def annotations(out: str) -> list[dict]:
    parsed = []
    for line in out.splitlines():
        match = ANNOTATION.match(line)
        assert match, line
        properties = dict(item.split("=", 1) for item in match["properties"].split(","))
        parsed.append({"level": match["level"], "message": match["message"], **properties})
    return parsed


def test_github_has_one_annotation_per_finding_at_the_json_positions(project, capsys):
    code, out, _ = run(capsys, "--format", "github", "model.py")
    assert code == 1
    items = findings(capsys)
    got = annotations(out)
    assert len(got) == len(items)
    for annotation, item in zip(got, items):
        assert annotation["level"] == "error"
        assert annotation["title"] == f"stablelint ({item['code']})"
        assert annotation["file"] == "model.py"
        assert (int(annotation["line"]), int(annotation["col"])) == (item["location"]["row"], item["location"]["column"])
        assert (int(annotation["endLine"]), int(annotation["endColumn"])) == (
            item["end_location"]["row"], item["end_location"]["column"]
        )
        assert "\n" not in annotation["message"]
        assert annotation["message"].startswith(f"model.py:{item['location']['row']}:")
        assert annotation["message"].endswith("%0A  help: " + item["fix"]["message"])


def test_github_names_files_relative_to_the_checkout(project, capsys):
    (project / "pkg").mkdir()
    (project / "pkg" / "m.py").write_text("import torch\ny = torch.log(torch.softmax(x, 1))\n")
    for spelled in ("./pkg/m.py", "pkg//m.py", str(project / "pkg" / "m.py")):
        [annotation] = annotations(run(capsys, "--format", "github", spelled)[1])
        assert annotation["file"] == "pkg/m.py", spelled


def test_github_escapes_what_would_end_a_property(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a,b:c%.py").write_text("import torch\ny = torch.log(torch.softmax(x, 1))\n")
    [annotation] = annotations(run(capsys, "--format", "github", "a,b:c%.py")[1])
    assert annotation["file"] == "a%2Cb%3Ac%25.py"


def test_github_opt_in_rules_are_warnings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.py").write_text("import torch\ny = torch.log(torch.relu(torch.randn(3)))\n")
    [annotation] = annotations(run(capsys, "--format", "github", "--extend-select", "STB4", "h.py")[1])
    assert annotation["level"] == "warning" and annotation["title"] == "stablelint (STB401)"


# -- SARIF


def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema)


def apply_replacements(source: str, replacements: list[dict]) -> str:
    """A SARIF fix applied as a consumer would: 1-based lines, character columns."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(line, column):
        return starts[line - 1] + column - 1

    spans = []
    for replacement in replacements:
        region = replacement["deletedRegion"]
        spans.append((
            offset(region["startLine"], region["startColumn"]), offset(region["endLine"], region["endColumn"]),
            replacement.get("insertedContent", {}).get("text", ""),
        ))
    for start, end, text in sorted(spans, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def test_sarif_is_valid_against_the_official_schema(project, capsys):
    validator = sarif_validator()
    code, out, _ = run(capsys, "--format", "sarif", "model.py")
    assert code == 1
    log = json.loads(out)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    assert log["version"] == "2.1.0"
    [sarif_run] = log["runs"]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in ALL_RULES]
    for rule, entry in zip(ALL_RULES, rules):
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.message
        assert entry["fullDescription"]["text"] and entry["help"]["text"].startswith(f"# {rule.code}")
        assert "helpUri" not in entry  # no site named, no link: the page is in "help"
    items = findings(capsys)
    assert len(sarif_run["results"]) == len(items)
    for result, item in zip(sarif_run["results"], items):
        assert result["ruleId"] == item["code"] == rules[result["ruleIndex"]]["id"]
        assert result["message"]["text"] == item["message"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "model.py", "uriBaseId": "%SRCROOT%"}
        region = location["region"]
        assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (
            item["location"]["row"], item["location"]["column"],
            item["end_location"]["row"], item["end_location"]["column"],
        )
    # The non-ASCII string before `e = torch.exp(1e-5 * torch.tanh(x)) - 1`: columns count characters.
    assert any(r["ruleId"] == "STB107" and r["locations"][0]["physicalLocation"]["region"]["startColumn"] == 15
               for r in sarif_run["results"])


def test_sarif_fixes_reproduce_what_fix_writes(project, capsys):
    sarif_run = json.loads(run(capsys, "--format", "sarif", "model.py")[1])["runs"][0]
    with_fix = [result for result in sarif_run["results"] if "fixes" in result]
    assert {result["ruleId"] for result in with_fix} == {"STB101", "STB102", "STB104", "STB107"}
    replacements = [r for result in with_fix for change in result["fixes"][0]["artifactChanges"]
                    for r in change["replacements"]]
    from_sarif = apply_replacements(MODEL, replacements)
    assert run(capsys, "--fix", "--unsafe-fixes", "model.py")[0] == 0
    assert from_sarif == (project / "model.py").read_text(encoding="utf-8") != MODEL
    stb102 = next(result for result in with_fix if result["ruleId"] == "STB102")["fixes"][0]
    assert stb102["properties"]["applicability"] == "unsafe"
    assert stb102["description"]["text"] == (
        "Replace with `scipy.special.logsumexp(log_p)`; adds a hard import of scipy, which this module did not import"
    )


def test_sarif_without_findings_is_valid_and_exits_0(tmp_path, monkeypatch, capsys):
    validator = sarif_validator()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clean.py").write_text("import torch\ny = torch.log_softmax(torch.zeros(2), 0)\n")
    code, out, _ = run(capsys, "--format", "sarif", "clean.py")
    log = json.loads(out)
    assert code == 0 and log["runs"][0]["results"] == []
    validator.validate(log)


def test_sarif_names_a_file_outside_the_cwd_by_its_file_uri(tmp_path, monkeypatch, capsys):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "m b.py").write_text("import torch\ny = torch.log(torch.softmax(x, 1))\n")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    log = json.loads(run(capsys, "--format", "sarif", str(tmp_path / "outside" / "m b.py"))[1])
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": (tmp_path / "outside" / "m b.py").as_uri()}
    assert "%20" in location["uri"]
    sarif_validator().validate(log)


def test_sarif_links_each_rule_to_the_configured_docs(project, capsys, monkeypatch):
    monkeypatch.setenv("STABLELINT_DOCS_URL", "https://docs.example.org/rules/{code}.html")
    log = json.loads(run(capsys, "--format", "sarif", "model.py")[1])
    sarif_validator().validate(log)
    for entry in log["runs"][0]["tool"]["driver"]["rules"]:
        assert entry["helpUri"] == f"https://docs.example.org/rules/{entry['id']}.html"


# -- JSON


def test_json_gives_each_findings_docs_url_and_fix_message(project, capsys, monkeypatch):
    assert all(item["url"] is None for item in findings(capsys))  # no site named, no link
    monkeypatch.setenv("STABLELINT_DOCS_URL", "https://docs.example.org/stablelint/rules/")
    items = findings(capsys)
    assert items
    for item in items:
        assert item["url"] == rule_url(item["code"]) == f"https://docs.example.org/stablelint/rules/{item['code']}.md"
        assert (DOCS / item["url"].rsplit("/", 1)[1]).is_file()  # the URL names a page that exists
        if item["fix"] is not None:
            assert item["fix"]["message"].startswith("Replace with `")
    by_code = {item["code"]: item for item in items}
    assert by_code["STB101"]["fix"]["message"] == "Replace with `torch.log_softmax(x, dim=1)`"


def test_every_format_keeps_the_exit_status(project, capsys):
    for name in ("text", "concise", "full", "json", "github", "sarif"):
        assert run(capsys, "--output-format", name, "model.py")[0] == 1
        assert run(capsys, "--output-format", name, "--exit-zero", "model.py")[0] == 0
    with pytest.raises(SystemExit) as raised:
        cli.main(["--format", "xml", "model.py"])
    assert raised.value.code == 2 and "invalid choice" in capsys.readouterr().err


# -- --show-fixes


def test_show_fixes_lists_what_fix_fixed_per_file_and_code(project, capsys):
    (project / "other.py").write_text("import torch\na = torch.log(torch.softmax(x, 1))\nb = torch.log(1 + 1e-5 * torch.tanh(x))\n")
    code, out, err = run(capsys, "--fix", "--show-fixes", "model.py", "other.py")
    assert code == 1  # STB102 remains: its fix is unsafe
    block = err[err.index("Fixed 5 errors:"):].splitlines()
    assert block[:8] == [
        "Fixed 5 errors:",
        "- model.py:",
        "    1 × STB101 (log-of-softmax)",
        "    1 × STB104 (log-of-sigmoid)",
        "    1 × STB107 (exp-minus-one)",
        "- other.py:",
        "    1 × STB101 (log-of-softmax)",
        "    1 × STB106 (log-of-one-plus)",
    ]
    assert "Found 6 errors (5 fixed, 1 remaining)." in err
    assert "STB102" in out
    # Nothing left to fix: nothing to list.
    err = run(capsys, "--fix", "--show-fixes", "model.py", "other.py")[2]
    assert "Fixed" not in err


def test_show_fixes_without_fix_lists_the_available_fixes(project, capsys):
    code, out, err = run(capsys, "--show-fixes", "model.py")
    assert code == 1
    block = err[err.index("Fixes available"):].splitlines()
    assert block[0] == "Fixes available for 4 errors:"
    assert block[1] == "- model.py:"
    assert "    5:6 STB101 [*] Replace with `torch.log_softmax(x, dim=1)`" in block
    assert (
        "    6:6 STB102 Replace with `scipy.special.logsumexp(log_p)`; adds a hard import of scipy, which this module "
        "did not import (unsafe: with `--unsafe-fixes`)"
    ) in block
    assert (project / "model.py").read_text(encoding="utf-8") == MODEL


def test_show_fixes_with_diff_says_what_would_be_fixed(project, capsys):
    code, out, err = run(capsys, "--diff", "--show-fixes", "model.py")
    assert code == 1 and out.startswith("--- model.py")
    assert "Would fix 3 errors:" in err and "    1 × STB107 (exp-minus-one)" in err
    assert (project / "model.py").read_text(encoding="utf-8") == MODEL


# -- --explain


def test_explain_prints_the_page_and_its_url(capsys):
    code, out, _ = run(capsys, "--explain", "STB106")
    assert code == 0
    assert out.startswith("# STB106 `log-of-one-plus`")
    assert out.rstrip().endswith("This page is docs/rules/STB106.md in stablelint's source.")
    code, out, err = run(capsys, "--explain", "STB016")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
