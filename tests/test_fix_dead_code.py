"""A fix leaves no dead code: the assignment whose value it moved to the use goes once
nothing reads the name (when computing the value is all it did), and so does a framework
import whose last use it replaced. The README's example session is run as shown."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from stablelint.engine import check_source, fix_source
from stablelint.format import fix_edits, fix_message

README = Path(__file__).resolve().parents[1] / "README.md"


def _session() -> tuple[str, list[str]]:
    """The README's loss.py and the lines its ``git diff`` shows after ``--fix``."""
    text = README.read_text(encoding="utf-8")
    session = text[text.index("## An example session"):]
    source = re.search(r"\$ cat loss\.py\n(.*?)\n\$ stablelint loss\.py", session, re.S).group(1)
    diff = re.search(r"\$ git diff -U0 loss\.py[^\n]*\n(.*?)\n\$ pyflakes loss\.py\n\$\n", session, re.S).group(1)
    return source.rstrip("\n") + "\n", diff.splitlines()


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return [line for line in diff if re.match(r"[-+][^-+]", line)]


def _pyflakes(source: str) -> list[str]:
    from pyflakes.api import check
    from pyflakes.reporter import Reporter

    class Collect(Reporter):
        def __init__(self):
            self.messages = []

        def flake(self, message):
            self.messages.append(str(message))

        def syntaxError(self, *args):
            self.messages.append(f"syntax error {args}")

        def unexpectedError(self, *args):
            self.messages.append(f"unexpected error {args}")

    reporter = Collect()
    check(source, "loss.py", reporter)
    return reporter.messages


def test_the_readme_example_comes_out_as_shown_and_clean_under_pyflakes():
    pytest.importorskip("pyflakes")
    source, shown = _session()
    assert len(_pyflakes(source)) == 0
    fixed = fix_source(source, "loss.py").source
    assert _changed_lines(source, fixed) == shown
    assert _pyflakes(fixed) == []


def _fixed(source: str, unsafe: bool = True) -> str:
    return fix_source(source, "m.py", unsafe=unsafe).source


def test_an_assignment_whose_last_use_was_fixed_goes():
    source = "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)\n    return torch.log(p)\n"
    assert _fixed(source) == "import torch\n\n\ndef f(z):\n    return torch.nn.functional.logsigmoid(z)\n"


def test_an_assignment_still_read_elsewhere_stays():
    source = "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)\n    return torch.log(p), p\n"
    assert "    p = torch.sigmoid(z)\n" in _fixed(source)


def test_an_assignment_that_may_do_more_stays_and_the_fix_says_so():
    source = (
        "import torch\nfrom model import net\n\n\ndef f(x):\n    p = torch.sigmoid(net(x))\n    return torch.log(p)\n"
    )
    fixed = _fixed(source)
    assert "    p = torch.sigmoid(net(x))\n" in fixed and "logsigmoid(net(x))" in fixed
    [finding] = check_source(source, "m.py")
    assert "the assignment of `p` (line 6) stays: its right-hand side may have other effects" in fix_message(finding)


@pytest.mark.parametrize("draw", ["torch.rand_like(z)", "z.add_(1)"])
def test_a_random_draw_or_an_in_place_call_is_an_effect(draw):
    source = f"import torch\n\n\ndef f(z):\n    p = torch.sigmoid({draw})\n    return torch.log(p)\n"
    assert f"    p = torch.sigmoid({draw})\n" in _fixed(source)


def test_a_chain_of_names_goes_whole():
    source = "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)\n    q = p\n    return torch.log(q)\n"
    assert _fixed(source) == "import torch\n\n\ndef f(z):\n    return torch.nn.functional.logsigmoid(z)\n"


def test_module_level_names_and_commented_assignments_stay():
    module_level = "import torch\n\np = torch.sigmoid(torch.ones(3))\ny = torch.log(p)\n"
    assert "p = torch.sigmoid(torch.ones(3))\n" in _fixed(module_level)
    commented = "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)  # keep: read by a hook\n    return torch.log(p)\n"
    assert "p = torch.sigmoid(z)  # keep" in _fixed(commented)


def test_a_framework_import_whose_last_use_went_goes_and_another_stays():
    source = "import numpy as np\nimport os\n\n\ndef f(log_odds):\n    return np.log(1 + np.exp(log_odds))\n"
    fixed = _fixed(source)
    assert "np.logaddexp(0, log_odds)" in fixed and "import numpy as np\n" in fixed  # still read by the fix
    source = "import math\nimport torch\n\n\ndef f(x):\n    return torch.log(torch.exp(x))\n"
    assert _fixed(source) == "import math\n\n\ndef f(x):\n    return x\n"


def test_the_json_edits_of_a_fix_delete_what_it_leaves_dead():
    source = "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)\n    return torch.log(p)\n"
    [finding] = check_source(source, "m.py")
    edits = sorted(fix_edits(finding.fix, source), key=lambda edit: edit.start, reverse=True)
    for edit in edits:
        source = source[:edit.start] + edit.content + source[edit.end:]
    assert source == _fixed("import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)\n    return torch.log(p)\n")


def test_a_from_import_keeps_only_its_names_still_read():
    source = (
        "from scipy.special import expit\nimport numpy as np\n\n\n"
        "def f(log_odds):\n    return np.log(expit(log_odds))\n"
    )
    fixed = _fixed(source)
    assert "from scipy.special import log_expit\n" in fixed and "expit(" not in fixed.replace("log_expit(", "")


MANY_FIXES = '''import torch
from scipy.special import expit
import numpy as np


def f(z):
    probs = torch.softmax(z, dim=-1)
    y = torch.log(torch.sigmoid(z))
    return torch.log(probs), y


def f(z):
    probs = torch.softmax(z, dim=-1)
    return torch.log(probs)


class Model:
    @staticmethod
    def chain(z):
        p = torch.sigmoid(z)
        q = p
        return torch.log(q)

    def closure(self, z):
        p = torch.sigmoid(z)

        def inner():
            return p
        return torch.log(p), inner


def g(log_odds):
    s = expit(log_odds)
    return np.log(s)
def h(z): return torch.log(torch.sigmoid(z))  # on the def's line, the last, no newline'''


def _applied(source, edits):
    for edit in sorted(edits, key=lambda edit: edit.start, reverse=True):
        source = source[:edit.start] + edit.content + source[edit.end:]
    return source


def test_each_fixs_json_edits_are_what_that_fix_alone_leaves_dead_in_a_file_of_many():
    from stablelint.dead_assignments import dead_code_edits, fix_dead_code_edits
    from stablelint.fixes import apply_fixes

    findings = [finding for finding in check_source(MANY_FIXES, "m.py") if finding.fix]
    assert len(findings) >= 7
    removed = []
    for finding in findings:
        edited, _ = apply_fixes(MANY_FIXES, [finding.fix])
        changes = [(edit.start, edit.end, edit.content) for edit in finding.fix.edits]
        assert fix_dead_code_edits(MANY_FIXES, edited, changes) == dead_code_edits(MANY_FIXES, edited)
        fixed = _applied(MANY_FIXES, fix_edits(finding.fix, MANY_FIXES))
        removed.append([line[1:] for line in _changed_lines(MANY_FIXES, fixed) if line.startswith("-")])
    assert ["    probs = torch.softmax(z, dim=-1)", "    return torch.log(probs), y"] in removed  # the first f
    assert ["        p = torch.sigmoid(z)", "        q = p", "        return torch.log(q)"] in removed
    # The second f is not looked at (a name's first function is); the closure still reads p.
    assert ["    return torch.log(probs)"] in removed
    assert ["        return torch.log(p), inner"] in removed
