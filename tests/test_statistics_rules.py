"""STB2xx facts not covered by the examples: selection of the opt-in STB203, and the
framework a method chain is fixed for."""

from __future__ import annotations

from stablelint.config import load_settings, names_opt_in
from stablelint.engine import check_source, fix_source


def test_normalize_without_eps_is_opt_in(tmp_path):
    default = load_settings(start=tmp_path, isolated=True)
    assert default.is_selected("STB201") and default.is_selected("STB205")
    assert not default.is_selected("STB203")
    assert default.with_overrides(extend_select=["STB203"]).is_selected("STB203")
    assert not default.with_overrides(extend_select=["STB4"]).is_selected("STB203")
    assert default.with_overrides(extend_select=["STB4", "STB203"]).is_selected("STB402")


def test_every_opt_in_family_is_read_from_one_pass_of_the_prefixes():
    assert names_opt_in(prefix for prefix in ["STB4", "STB203"]) == {"STB4", "STB203"}


def _fixed(source: str) -> str:
    return fix_source(source, "example.py").source


def test_method_variance_is_fixed_for_the_framework_its_keywords_name():
    torch_source = "import torch\nimport numpy as np\ny = (x * x).mean(dim=1) - x.mean(dim=1) ** 2\n"
    assert _fixed(torch_source).endswith("y = x.var(dim=1, correction=0)\n")
    numpy_source = "import numpy as np\ny = (x * x).mean(axis=1) - x.mean(axis=1) ** 2\n"
    assert _fixed(numpy_source).endswith("y = x.var(axis=1)\n")


def test_method_variance_of_an_unknown_framework_is_reported_without_a_fix():
    source = "import torch\nimport numpy as np\ny = (x * x).mean(1) - x.mean(1) ** 2\n"
    (finding,) = check_source(source, "example.py")
    assert finding.code == "STB201" and finding.fix is None


def test_a_variance_whose_names_are_rebound_is_not_fixed():
    source = (
        "import torch\n"
        "def f(x, y):\n"
        "    m = torch.mean(x, dim=0)\n"
        "    x = y\n"
        "    return torch.mean(x ** 2, dim=0) - m ** 2\n"
    )
    assert [d.code for d in check_source(source, "example.py")] == []


def test_a_variance_without_trigger_words_passes_the_text_prefilter():
    from stablelint.prefilter import candidate_lines, might_match

    source = "import torch\nu = x.mean(1)\ny = 2 * x\nv = (x * x).mean(1) - u * u\nw = x ** 2\n"
    assert might_match(source) and not might_match("import torch\nw = x ** 2\nz = a - b\n")
    assert candidate_lines(source, set()) == [4]
    assert [d.code for d in check_source(source, "example.py")] == ["STB201"]
