"""Every output carries a finding's evidence: JSON ``evidence``, a line under the snippet in
``--format full``, SARIF result properties, the cache, ``--explain``; the message stays one line."""

from __future__ import annotations

import json

from test_formats import MODEL, project, run  # noqa: F401 - the fixture

from stablelint.cache import Cache, rule_codes
from stablelint.diagnostics import Evidence
from stablelint.engine import check_source


def test_json_findings_carry_dtype_consequence_and_witness(project, capsys):  # noqa: F811
    code, out, _ = run(capsys, "--format", "json", "model.py")
    found = {item["code"]: item for item in json.loads(out)}
    softmax = found["STB101"]["evidence"]
    assert softmax["dtype"] == "float32" and softmax["consequence"] == "underflow"
    assert softmax["witness"].startswith("at x = [0, -200] (float32): log(softmax(x)) = [0, -inf]")
    assert found["STB102"]["evidence"]["dtype"] == "float64"  # NumPy computes in float64
    assert found["STB107"]["evidence"]["consequence"] == "digits-lost"
    assert 3.6 < found["STB107"]["evidence"]["digits_lost"] <= found["STB107"]["evidence"]["digits"]
    assert all("\n" not in item["message"] for item in found.values())


def test_full_shows_the_evidence_under_the_snippet(project, capsys):  # noqa: F811
    _, out, _ = run(capsys, "--format", "full", "model.py")
    entry = out.split("\n\n")[0].splitlines()
    assert entry[0].startswith("STB101")
    evidence = [line for line in entry if line.startswith("evidence: ")]
    assert evidence == [
        "evidence: underflow in float32: at x = [0, -200] (float32): log(softmax(x)) = [0, -inf], "
        "log_softmax(x) = [0, -200]"
    ]


def test_sarif_results_carry_the_evidence_in_their_properties(project, capsys):  # noqa: F811
    _, out, _ = run(capsys, "--format", "sarif", "model.py")
    results = json.loads(out)["runs"][0]["results"]
    assert results and all(result["properties"]["evidence"]["consequence"] for result in results)


def test_explain_gives_the_failure_model_and_an_example_witness(capsys):
    _, out, _ = run(capsys, "--explain", "STB106")
    assert "## Failure model" in out
    assert "Witness: at x = 1e-07 (float32): log(1 + x) = 1.19e-07, log1p(x) = 1e-07" in out


def test_the_cache_stores_and_restores_the_evidence(tmp_path):
    text = MODEL.replace("\t", "    ")
    diagnostics = check_source(text, "model.py")
    cache = Cache(str(tmp_path), b"salt", rule_codes())
    size = len(text.encode("utf-8"))
    key = cache.key("model.py", text.encode("utf-8"))
    cache.store(key, diagnostics, size)
    restored = cache.load(key, "model.py", text, size)
    assert [d.evidence.text() for d in restored] == [d.evidence.text() for d in diagnostics]


def test_evidence_survives_strict_json_with_nan_and_inf_inputs():
    from stablelint.rules.failures import FAILURES

    (comparison,) = FAILURES["STB503"]
    evidence = comparison.example()
    text = json.dumps(evidence.to_dict(), allow_nan=False)
    assert Evidence.from_dict(json.loads(text)).text() == evidence.text() == (
        "wrong-result in float32: at x = nan (float32): x == nan = 0, isnan(x) = 1"
    )


def test_a_proven_range_without_a_failing_input_is_not_a_finding():
    """log(1 + x) of x in [0.5, 3] loses no digits that matter: the range excludes the failure
    region, and the finding's own range ends show no loss."""
    source = "import torch\ny = torch.log(1 + torch.clamp(torch.rand(3), 0.5, 3.0))\n"
    assert [d.code for d in check_source(source, "t.py")] == []
    tiny = "import torch\n\ndef f(h):\n    return torch.log(1 + torch.clamp(h, -1e-7, 1e-7))\n"
    (finding,) = check_source(tiny, "t.py")
    assert finding.evidence.range.startswith("x in [-1e-07") and finding.evidence.range.endswith(", 1e-07]")
    assert finding.evidence.witness.text("float32").startswith("at x = 1e-07 (float32): log(1 + x) = ")
