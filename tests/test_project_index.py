"""The project index: values and precision settings from the other files of a project.

The fixture projects (``fixtures/projects/<name>/``, each with its own pyproject.toml) carry
inline expectations that ``test_fixtures.py`` checks file by file; here: the CLI and the
flake8 plugin agree on them, the cache follows edits of the modules a finding rests on,
and what the index cannot resolve stays unknown.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stablelint.analysis import precision_profile, project
from stablelint.cli import main
from stablelint.engine import check_source

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = sorted(path for path in (ROOT / "fixtures" / "projects").iterdir() if path.is_dir())
FINDING = re.compile(r"^(?:\./)?(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>STB\d{3})")


def _found(lines: list[str]) -> set[tuple[str, int, int, str]]:
    found = set()
    for line in lines:
        match = FINDING.match(line)
        if match:
            found.add((match["path"], int(match["line"]), int(match["col"]), match["code"]))
    return found


def _run(args: list[str], cwd: Path) -> list[str]:
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda path: path.name)
def test_flake8_reports_what_the_cli_reports_from_the_project_root(folder):
    cli = _found(_run(["-m", "stablelint", "--no-cache", "--select", "STB", "."], folder))
    plugin = _found(_run(["-m", "flake8", "--isolated", "--select", "STB", "."], folder))
    assert cli, "every fixture project has findings"
    assert plugin == cli


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")


def _codes(path: Path, **kwargs) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in check_source(path.read_text(), str(path), **kwargs)]


TWO_FILES = {
    "pyproject.toml": "[tool.stablelint]\n",
    "layers.py": """\
        import torch.nn.functional as F


        def probs_of(logits):
            return F.softmax(logits, dim=-1)
    """,
    "losses.py": """\
        import torch

        from layers import probs_of


        def nll(logits, y):
            probs = probs_of(logits)
            return -(y * torch.log(probs)).sum()
    """,
}


def test_a_value_from_another_file_names_it_and_gets_no_fix(tmp_path):
    _write(tmp_path, TWO_FILES)
    project.reset()
    (finding,) = check_source((tmp_path / "losses.py").read_text(), str(tmp_path / "losses.py"))
    assert finding.code == "STB101"
    assert "comes from layers.probs_of (layers.py:5)" in finding.message
    assert finding.fix is None


def test_without_the_index_the_file_alone_says_nothing(tmp_path):
    _write(tmp_path, TWO_FILES)
    assert _codes(tmp_path / "losses.py", project=False) == []


def test_the_cache_checks_again_a_file_whose_dependency_changed(tmp_path, capsys, monkeypatch):
    _write(tmp_path, TWO_FILES)
    monkeypatch.chdir(tmp_path)
    assert main(["losses.py"]) == 1
    assert "STB101" in capsys.readouterr().out
    assert main(["losses.py"]) == 1  # from the cache
    assert "STB101" in capsys.readouterr().out
    (tmp_path / "layers.py").write_text(
        "import torch.nn.functional as F\n\n\ndef probs_of(logits):\n    return F.log_softmax(logits, dim=-1)\n"
    )
    assert main(["losses.py"]) == 0
    assert "STB101" not in capsys.readouterr().out


def test_the_cache_checks_again_when_the_precision_profile_changes(tmp_path, capsys, monkeypatch):
    _write(tmp_path, {
        "pyproject.toml": "[tool.stablelint]\n",
        "attention.py": """\
            def attend(scores, mask):
                return scores.masked_fill(mask == 0, -1e9)
        """,
        "train.py": "import attention\n",
    })
    monkeypatch.chdir(tmp_path)
    assert main(["attention.py"]) == 0
    capsys.readouterr()
    (tmp_path / "train.py").write_text("import torch\n\nimport attention\n\nscaler = torch.cuda.amp.GradScaler()\n")
    assert main(["attention.py"]) == 1
    out = capsys.readouterr().out
    assert "STB502" in out and "this project trains in float16: train.py:5 uses torch.cuda.amp.GradScaler" in out


def test_assume_dtype_overrides_the_profile():
    attention = ROOT / "fixtures" / "projects" / "torch_amp" / "net" / "attention.py"
    assert (6, "STB502") in _codes(attention)
    assert _codes(attention, dtype="float32") == []


def test_cycles_stars_dynamic_imports_and_unknown_names_are_unknown(tmp_path):
    _write(tmp_path, {
        "pyproject.toml": "[tool.stablelint]\n",
        "a.py": """\
            import torch
            from b import g


            def f(x):
                return g(x)


            def use(x):
                return torch.log(f(x))
        """,
        "b.py": """\
            from a import f


            def g(x):
                return f(x)
        """,
        "c.py": """\
            import importlib

            import torch
            from a import *
            from nowhere import h

            layers = importlib.import_module("layers")


            def use(x):
                return torch.log(h(x)) + torch.log(layers.probs(x)) + torch.log(f(x))
        """,
        "pkg/__init__.py": "from .mod import *\n",
        "pkg/mod.py": "import torch\n\n\ndef p(x):\n    return torch.softmax(x, -1)\n",
        "d.py": "import torch\nfrom pkg import p\n\n\ndef use(x):\n    return torch.log(p(x))\n",
    })
    project.reset()
    for name in ("a.py", "b.py", "c.py", "d.py"):
        assert _codes(tmp_path / name) == [], name


def test_a_deep_chain_of_modules_stops_at_the_bound(tmp_path):
    files = {"pyproject.toml": "[tool.stablelint]\n",
             "m0.py": "import torch\n\n\ndef f(x):\n    return torch.softmax(x, -1)\n"}
    for number in range(1, 12):
        files[f"m{number}.py"] = f"from m{number - 1} import f as g\n\n\ndef f(x):\n    return g(x)\n"
    files["near.py"] = "import torch\nfrom m2 import f\n\n\ndef use(x):\n    return torch.log(f(x))\n"
    files["far.py"] = "import torch\nfrom m11 import f\n\n\ndef use(x):\n    return torch.log(f(x))\n"
    _write(tmp_path, files)
    project.reset()
    assert _codes(tmp_path / "near.py") == [(6, "STB101")]
    assert _codes(tmp_path / "far.py") == []


def test_relative_imports_and_module_aliases(tmp_path):
    _write(tmp_path, {
        "pyproject.toml": "[tool.stablelint]\n",
        "pkg/__init__.py": "",
        "pkg/heads.py": "import torch\n\nSCALE = 2.0\n\n\ndef probs(x):\n    return torch.sigmoid(x)\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/loss.py": """\
            import torch

            from .. import heads
            from ..heads import probs
            import pkg.heads as H


            def a(x):
                return torch.log(heads.probs(x))


            def b(x):
                return torch.log(probs(x))


            def c(x):
                return torch.log(H.probs(x))
        """,
    })
    project.reset()
    assert _codes(tmp_path / "pkg" / "sub" / "loss.py") == [(9, "STB104"), (13, "STB104"), (17, "STB104")]


@pytest.mark.parametrize("code, dtype", [
    ("import torch\nwith torch.autocast('cuda'):\n    pass\n", "float16"),
    ("import torch\nwith torch.autocast('cpu'):\n    pass\n", "bfloat16"),
    ("from torch.cuda.amp import GradScaler\nscaler = GradScaler()\n", "float16"),
    ("import lightning as L\ntrainer = L.Trainer(precision='16-mixed')\n", "float16"),
    ("import lightning as L\ntrainer = L.Trainer(precision='bf16-mixed')\n", "bfloat16"),
    ("from transformers import TrainingArguments\nargs = TrainingArguments('out', fp16=True)\n", "float16"),
    ("from accelerate import Accelerator\naccelerator = Accelerator(mixed_precision='fp16')\n", "float16"),
    ("from tensorflow import keras\nkeras.mixed_precision.set_global_policy('mixed_float16')\n", "float16"),
    ("import jax.numpy as jnp\nfrom models import Net\nmodel = Net(dtype=jnp.bfloat16)\n", "bfloat16"),
    ("model = build()\nmodel.half()\n", "float16"),
])
def test_precision_settings_are_evidence(code, dtype):
    (evidence,) = precision_profile.evidence_in(code, "train.py")
    assert evidence.dtype == dtype and evidence.path == "train.py"


@pytest.mark.parametrize("code", [
    "import torch\ny = x.half() + 1\n",  # a tensor cast: the file's own fact
    "import torch\nwith torch.autocast('cuda', enabled=False):\n    pass\n",
    "text = 'torch.autocast and fp16=True'\n",
    "import lightning as L\ntrainer = L.Trainer(precision=32)\n",
    "from transformers import TrainingArguments\nargs = TrainingArguments('out', fp16=False)\n",
])
def test_what_is_not_evidence(code):
    assert precision_profile.evidence_in(code, "train.py") == []


CALLED_FROM_ELSEWHERE = {
    "pyproject.toml": "[tool.stablelint]\n",
    "base.py": """\
        import tensorflow as tf


        class Model:
            def _cost(self, model_output, ref):
                return -tf.reduce_mean(ref * tf.log(model_output))


        def bce(y_pred, y):
            return -tf.reduce_mean(y * tf.log(y_pred))
    """,
    "lr.py": """\
        import tensorflow as tf

        import base
        from base import bce


        class LogisticRegression(base.Model):
            def build(self, x, w):
                self.model_output = tf.nn.softmax(tf.matmul(x, w))
                self._cost(self.model_output, x)


        def train(logits, y):
            return bce(tf.sigmoid(logits), y)
    """,
}


def test_a_parameter_takes_what_the_callers_in_other_modules_pass(tmp_path):
    _write(tmp_path, CALLED_FROM_ELSEWHERE)
    project.reset()
    found = check_source((tmp_path / "base.py").read_text(), str(tmp_path / "base.py"))
    assert [(d.line, d.code) for d in found] == [(6, "STB101"), (10, "STB104")]
    assert "model_output receives self.model_output at lr.py:10" in found[0].message
    assert "y_pred receives tf.sigmoid(logits) at lr.py:14" in found[1].message
    assert all(d.fix is None for d in found)


@pytest.mark.parametrize("more", [
    "from base import bce\n\n\ndef other(p, y):\n    return bce(p, y)\n",  # a caller passing an unknown
    "from base import bce\n\nLOSSES = [bce]\n",  # kept as a value: callers out of sight
    "from base import *\n\n\ndef g(p, y):\n    return bce(p, y)\n",  # a star import
])
def test_callers_that_disagree_or_hide_leave_the_parameter_unknown(tmp_path, more):
    _write(tmp_path, {**CALLED_FROM_ELSEWHERE, "more.py": more})
    project.reset()
    found = check_source((tmp_path / "base.py").read_text(), str(tmp_path / "base.py"))
    assert [(d.line, d.code) for d in found] == [(6, "STB101")]


@pytest.mark.parametrize("more, parsed", [
    ('"""Uses base: see bce(p, y) for the loss."""\nimport base\n\n# bce(p, y) is not called here\n'
     'NOTE = "bce(p, y)"\n', False),  # named only in a docstring, a comment and a string: not parsed
    ('import base\n\n\ndef g(p, y):\n    print(f"{base.bce(p, y)}")\n', True),  # an f-string's call is code
])
def test_a_module_naming_a_function_only_in_prose_is_not_searched_for_its_calls(tmp_path, more, parsed):
    _write(tmp_path, {**CALLED_FROM_ELSEWHERE, "more.py": more})
    project.reset()
    found = check_source((tmp_path / "base.py").read_text(), str(tmp_path / "base.py"))
    assert [(d.line, d.code) for d in found] == ([(6, "STB101")] if parsed else [(6, "STB101"), (10, "STB104")])
    index = project.index_for(str(tmp_path / "base.py"))
    assert ("more.py" in index._analyses) is parsed


@pytest.mark.parametrize("text, prose", [
    ("x = 1  # bce(p)\n", ["# bce(p)"]),
    ('"""doc bce"""\nf(\'a\\\'b\', "c")\n', ['"""doc bce"""', "'a\\'b'", '"c"']),
    ("s = rb'raw' + f'{bce(x)}' + F\"{y}\"\n", ["'raw'"]),  # f-strings hold code
    ("s = '''open\n# not a comment\n", ["'''open\n# not a comment\n"]),  # unterminated: to the end
    ("s = 'cut\nbce(x)\n", ["'cut"]),  # a one-line string stops at its line's end
])
def test_prose_spans_are_the_comments_and_strings(text, prose):
    spans = project._prose_spans(text)
    assert [text[start:end] for start, end in zip(spans[::2], spans[1::2])] == prose


@pytest.mark.parametrize("local_call, found", [
    ("\n\ndef local(x):\n    return nll(x)\n", []),  # passes an unknown: no other module can change that
    ("", [(5, "STB101")]),  # no call in the file: the one in other.py decides
])
def test_other_modules_are_searched_for_calls_only_when_the_file_s_own_leave_it_open(tmp_path, local_call, found):
    _write(tmp_path, {
        "pyproject.toml": "[tool.stablelint]\n",
        "base.py": "import torch\n\n\ndef nll(probs):\n    return -torch.log(probs)\n" + local_call,
        "other.py": "import torch\nfrom base import nll\n\n\ndef use(z):\n    return nll(torch.softmax(z, -1))\n",
    })
    project.reset()
    assert _codes(tmp_path / "base.py") == found
    index = project.index_for(str(tmp_path / "base.py"))
    assert ("other.py" in index._analyses) is bool(found)


def test_a_loss_object_another_module_builds_is_called_here():
    # ``model.loss(model.forward(x), y)``: the training module names no loss; the model's
    # class in models.py sets ``self.loss = torch.nn.BCELoss()`` and its forward ends in a sigmoid.
    root = ROOT / "fixtures" / "projects" / "torch_loss_objects"
    index = project.ProjectIndex(str(root))
    path = root / "train.py"
    found = check_source(path.read_text(), str(path), project=index)
    assert [(d.line, d.code) for d in found] == [(12, "STB301")]
    assert "the loss object is torch.nn.BCELoss(), built in models.py:9" in found[0].message
    assert found[0].fix is None  # the object is built in another module
    assert index.depends(str(path))[index.LOSSES] == "loss"  # a cached result rests on those names


def test_a_star_import_from_a_library_hides_no_caller(tmp_path):
    # ``from numpy import *`` brings none of the project's functions: the ``bce`` called here is
    # this function's parameter, not base.bce, and base.bce's callers are still all in sight.
    more = "from numpy import *\n\n\ndef g(p, bce):\n    return bce(p)\n"
    _write(tmp_path, {**CALLED_FROM_ELSEWHERE, "more.py": more})
    project.reset()
    found = check_source((tmp_path / "base.py").read_text(), str(tmp_path / "base.py"))
    assert [(d.line, d.code) for d in found] == [(6, "STB101"), (10, "STB104")]


def test_a_star_import_binds_what_exactly_one_project_module_defines(tmp_path):
    _write(tmp_path, {
        "pyproject.toml": "[tool.stablelint]\n",
        "heads.py": "import torch\n\n\ndef probs(x):\n    return torch.softmax(x, -1)\n",
        "other.py": "import torch\n\n\ndef probs(x):\n    return torch.sigmoid(x)\n",
        "one.py": "import torch\nfrom heads import *\n\n\ndef use(x):\n    return torch.log(probs(x))\n",
        "two.py": "import torch\nfrom heads import *\nfrom other import *\n\n\ndef use(x):\n    return torch.log(probs(x))\n",
        "own.py": "import torch\nfrom heads import *\n\n\ndef probs(x):\n    return x\n\n\ndef use(x):\n"
                  "    return torch.log(probs(x))\n",
    })
    project.reset()
    assert _codes(tmp_path / "one.py") == [(6, "STB101")]
    assert _codes(tmp_path / "two.py") == []  # defined by both: which one wins is not followed
    assert _codes(tmp_path / "own.py") == []  # the module's own def hides the star's


def test_each_repository_in_a_folder_is_its_own_project(tmp_path, monkeypatch):
    _write(tmp_path, {
        "a/setup.py": "", "a/pkg/__init__.py": "", "a/pkg/m.py": "", "a/scripts/run.py": "",
        "b/train.py": "", "b/models/__init__.py": "", "b/models/net.py": "", "c/d/e.py": "",
    })
    monkeypatch.chdir(tmp_path)
    project.reset()
    project.set_root(str(tmp_path))  # the CLI checking the whole folder
    try:
        roots = {name: project.root_for(str(tmp_path / name)) for name in (
            "a/pkg/m.py", "a/scripts/run.py", "b/train.py", "b/models/net.py", "c/d/e.py")}
    finally:
        project.set_root(None)
    assert roots == {
        "a/pkg/m.py": str(tmp_path / "a"), "a/scripts/run.py": str(tmp_path / "a"),  # its setup.py
        "b/train.py": str(tmp_path / "b"), "b/models/net.py": str(tmp_path / "b"),  # the top package's folder
        "c/d/e.py": str(tmp_path / "c" / "d"),  # a script: its own folder, not the folder checked
    }
    project.reset()
    monkeypatch.chdir(tmp_path / "c")  # from elsewhere, with no root given: the same
    assert project.root_for(str(tmp_path / "b/models/net.py")) == str(tmp_path / "b")


def test_a_package_imports_itself_from_its_own_repository_root(tmp_path):
    # Checked as part of a folder of repositories: ``utils.heads`` is found from the
    # repository's root (its setup.py), not from the folder the CLI was given.
    _write(tmp_path, {
        "repo/setup.py": "",
        "repo/utils/__init__.py": "",
        "repo/utils/heads.py": "import torch\n\n\ndef probs(x):\n    return torch.softmax(x, -1)\n",
        "repo/utils/loss.py": "import torch\n\nfrom utils.heads import probs\n\n\ndef nll(x):\n"
                              "    return torch.log(probs(x))\n",
        "other/train.py": "import torch\n",
    })
    project.reset()
    project.set_root(str(tmp_path))
    try:
        assert _codes(tmp_path / "repo/utils/loss.py") == [(7, "STB101")]
    finally:
        project.set_root(None)


def test_an_edited_module_with_a_new_caller_is_seen_after_forget(tmp_path):
    _write(tmp_path, CALLED_FROM_ELSEWHERE)
    project.reset()
    base = tmp_path / "base.py"
    assert _codes(base) == [(6, "STB101"), (10, "STB104")]
    # The language server saves a new module that passes bce something unknown.
    (tmp_path / "more.py").write_text("from base import bce\n\n\ndef other(p, y):\n    return bce(p, y)\n")
    project.forget(str(tmp_path / "more.py"))
    assert _codes(base) == [(6, "STB101")]


def _engine_runs(monkeypatch) -> list[str]:
    from stablelint import engine

    runs: list[str] = []
    real = engine.check_source

    def counted(source, path="<stdin>", **kwargs):
        runs.append(Path(path).name)
        return real(source, path, **kwargs)

    monkeypatch.setattr(engine, "check_source", counted)
    return runs


def test_the_cache_checks_again_when_a_new_module_calls_the_function(tmp_path, capsys, monkeypatch):
    _write(tmp_path, {**CALLED_FROM_ELSEWHERE, "pyproject.toml": "[tool.stablelint]\n"})
    monkeypatch.chdir(tmp_path)
    runs = _engine_runs(monkeypatch)
    assert main(["--select", "STB104", "base.py"]) == 1  # y_pred receives tf.sigmoid(logits) at lr.py:14
    assert "STB104" in capsys.readouterr().out
    assert main(["--select", "STB104", "base.py"]) == 1
    assert runs == ["base.py"]  # the second run: from the cache, nothing changed
    capsys.readouterr()
    # A module that did not exist: base.py's text and the modules it read are unchanged.
    (tmp_path / "more.py").write_text("from base import bce\n\n\ndef other(p, y):\n    return bce(p, y)\n")
    assert main(["--select", "STB104", "base.py"]) == 0
    assert "STB104" not in capsys.readouterr().out
    assert runs == ["base.py", "base.py"]


def test_an_entry_whose_record_of_what_it_rests_on_is_lost_or_replaced_is_a_miss(tmp_path, capsys, monkeypatch):
    _write(tmp_path, TWO_FILES)
    monkeypatch.chdir(tmp_path)
    runs = _engine_runs(monkeypatch)
    assert main(["--cache-dir", "c", "losses.py"]) == 1
    (entry,) = (path for path in (tmp_path / "c").rglob("*") if path.is_file() and path.parent.name != "c"
                and len(path.parent.name) == 2)
    stored = entry.read_bytes()
    findings, mark, record = stored.partition(b"\0deps\0")
    assert mark and b"layers.py" in record
    entry.write_bytes(findings + mark + b"{}")  # would say the finding rests on nothing
    assert main(["--cache-dir", "c", "losses.py"]) == 1
    entry.write_bytes(findings)  # the record lost
    assert main(["--cache-dir", "c", "losses.py"]) == 1
    assert main(["--cache-dir", "c", "losses.py"]) == 1
    assert runs == ["losses.py"] * 3  # each lost or replaced record: checked again; then a hit
    assert entry.read_bytes() == stored  # written again as it was


def test_a_re_run_of_an_unchanged_project_loads_neither_the_engine_nor_the_index(tmp_path):
    # What a finding rests on in other modules is checked by the stamp of the project's
    # files alone while none changed; the index (and the evaluator it imports) load only
    # when one did, and then the dependent file is checked again.
    _write(tmp_path, TWO_FILES)
    script = ("import sys\nfrom stablelint.cli import main\ncode = main(['--cache-dir', 'c', '--select', 'STB1', '.'])\n"
              "print(code, 'stablelint.engine' in sys.modules, 'stablelint.analysis.project' in sys.modules)\n")
    first = _run(["-c", script], tmp_path)
    assert first[-1] == "1 True True" and any("STB101" in line for line in first)
    again = _run(["-c", script], tmp_path)
    assert again == first[:-1] + ["1 False False"]
    (tmp_path / "layers.py").write_text("import torch\n\n\ndef probs_of(logits):\n    return logits\n")
    edited = _run(["-c", script], tmp_path)
    assert edited == ["0 True True"]  # losses.py checked again: its softmax is gone


HALF_PROJECT = {
    "pyproject.toml": "[tool.stablelint]\n",
    "attention.py": "def attend(scores, mask):\n    return scores.masked_fill(mask == 0, -1e9)\n",
    "train.py": "import torch\n\nimport attention\n\nscaler = torch.cuda.amp.GradScaler()\n",
    "other.py": "x = 1\n",
}


def _evidence_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = precision_profile.evidence_in

    def counted(source, path):
        calls.append(path)
        return real(source, path)

    monkeypatch.setattr(precision_profile, "evidence_in", counted)
    return calls


def test_the_precision_profile_is_derived_again_for_the_edited_files_only(tmp_path, capsys, monkeypatch):
    # Each file's evidence rests on its text alone: the cache keeps it by the text's digest.
    _write(tmp_path, HALF_PROJECT)
    monkeypatch.chdir(tmp_path)
    calls = _evidence_calls(monkeypatch)
    assert main(["--cache-dir", "c", "attention.py"]) == 1
    assert "this project trains in float16: train.py:5" in capsys.readouterr().out
    assert sorted(calls) == ["attention.py", "other.py", "train.py"]
    (tmp_path / "other.py").write_text("x = 2\ny = 3\n")  # attention.py's entry is asked again
    assert main(["--cache-dir", "c", "attention.py"]) == 1
    assert "this project trains in float16: train.py:5" in capsys.readouterr().out
    assert sorted(calls) == ["attention.py", "other.py", "other.py", "train.py"]
    (tmp_path / "train.py").write_text("import torch\n\nimport attention\n")
    assert main(["--cache-dir", "c", "attention.py"]) == 0
    assert capsys.readouterr().out == ""
    assert calls[4:] == ["train.py"]


def test_a_record_of_the_precision_profile_that_stablelint_did_not_write_is_not_read(tmp_path, capsys, monkeypatch):
    import hashlib
    import json

    _write(tmp_path, {**HALF_PROJECT, "train.py": "import attention\n"})
    monkeypatch.chdir(tmp_path)
    assert main(["--cache-dir", "c", "attention.py"]) == 0
    (record,) = (tmp_path / "c").glob("*/index/*")
    header, _, body = record.read_bytes().partition(b"\n")
    table = json.loads(body)
    assert table["train.py"][1] == []
    table["train.py"][1] = [[1, "float16", "uses torch.cuda.amp.GradScaler", False, True]]  # a forged claim
    record.write_bytes(header + b"\n" + json.dumps(table).encode())
    (tmp_path / "other.py").write_text("x = 2\n")
    calls = _evidence_calls(monkeypatch)
    assert main(["--cache-dir", "c", "attention.py"]) == 0
    assert capsys.readouterr().out == ""
    assert sorted(calls) == ["attention.py", "other.py", "train.py"]  # the record is not this stablelint's
    assert hashlib.blake2b(b"import attention\n", digest_size=16).hexdigest() == \
        json.loads(record.read_bytes().partition(b"\n")[2])["train.py"][0]  # written again, of the text


def test_the_files_of_a_project_are_listed_as_os_walk_finds_them(tmp_path):
    import os

    _write(tmp_path, {name: "" for name in (
        "b.py", "a.py", "notes.txt", "pkg/__init__.py", "pkg/z.py", "pkg/sub/m.py", "pkg/a_sub/n.py",
        "build/gen.py", ".hidden/h.py", "venv/v.py", "zz/last.py", "pkg/sub.py",
    )})
    (tmp_path / "linked").symlink_to(tmp_path / "pkg", target_is_directory=True)
    walked = []
    for folder, folders, files in os.walk(tmp_path):
        folders[:] = sorted(f for f in folders if f not in ("build", "venv") and not f.startswith("."))
        walked += [os.path.relpath(os.path.join(folder, name), tmp_path).replace(os.sep, "/")
                   for name in sorted(files) if name.endswith(".py")]
    listed = project.DiskFiles(str(tmp_path)).python_files()
    assert listed == walked
    assert listed[:2] == ["a.py", "b.py"] and "linked/z.py" not in listed and "build/gen.py" not in listed


SCRATCH_ATTENTION = """\
import torch


def attention(q, k):
    scores = q @ k.transpose(-1, -2)
    return torch.softmax(scores.masked_fill(scores == 0, -1e9), -1)
"""
SCRATCH_TRAIN = """\
import torch

from probe import attention


def step(q, k):
    with torch.autocast("cuda", dtype=torch.float16):
        return attention(q, k)
"""


def test_a_file_directly_in_the_temporary_folder_is_checked_alone(tmp_path, monkeypatch):
    # Scratch files of unrelated programs side by side in the temporary folder are no
    # project: one's autocast says nothing of another's precision.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    _write(tmp_path, {"probe.py": SCRATCH_ATTENTION, "train.py": SCRATCH_TRAIN})
    project.reset()
    probe = tmp_path / "probe.py"
    assert project.root_for(str(probe)) is None
    assert _codes(probe) == [(c.line, c.code) for c in check_source(SCRATCH_ATTENTION, str(probe), project=False)]
    assert main([str(probe), "--no-cache", "--quiet"]) == 0
    # In a folder of its own below it, the two files are a project again.
    _write(tmp_path, {"scratch/probe.py": SCRATCH_ATTENTION, "scratch/train.py": SCRATCH_TRAIN})
    project.reset()
    assert project.root_for(str(tmp_path / "scratch/probe.py")) == str(tmp_path / "scratch")
    assert _codes(tmp_path / "scratch/probe.py") == [(6, "STB502")]


def test_a_package_in_the_temporary_folder_is_its_own_project(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/m.py": "", "loose.py": ""})
    project.reset()
    assert project.root_for(str(tmp_path / "pkg/sub/m.py")) == str(tmp_path / "pkg")


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_module_is_not_read(tmp_path):
    # Opening a FIFO waits for a writer; the index must not (checked in a child process,
    # so that a hang fails the test instead of stopping the run).
    loss = "import torch\n\n\ndef nll(x):\n    return torch.log(torch.softmax(x, -1))\n"
    _write(tmp_path, {"setup.py": "", "loss.py": loss})
    __import__("os").mkfifo(tmp_path / "pipe.py")
    script = ("from stablelint.analysis import project\n"
              f"files = project.DiskFiles({str(tmp_path)!r})\n"
              "assert files.read('pipe.py') is None\n"
              "assert 'softmax' in files.read('loss.py')\n"
              "print(project.index_for(" + repr(str(tmp_path / "loss.py")) + ").reach().evidence)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_cli_given_one_file_of_a_project_reports_what_flake8_reports(tmp_path, monkeypatch, capsys):
    # Run from the project: the CLI's root for ``scripts/run.py`` alone is the repository
    # (its setup.py), as for flake8 and check_source, not the folder of the one file given.
    _write(tmp_path, {
        "setup.py": "",
        "lib/__init__.py": "",
        "lib/heads.py": "import torch\n\n\ndef probs(x):\n    return torch.softmax(x, -1)\n",
        "scripts/run.py": "import torch\n\nfrom lib.heads import probs\n\n\n"
                          "def nll(x):\n    return torch.log(probs(x))\n",
    })
    monkeypatch.chdir(tmp_path)
    project.reset()
    assert _codes(tmp_path / "scripts/run.py") == [(7, "STB101")]
    assert main(["--no-cache", "scripts/run.py"]) == 1
    cli = _found(capsys.readouterr().out.splitlines())
    assert cli == {("scripts/run.py", 7, 12, "STB101")}
    assert _found(_run(["-m", "flake8", "--isolated", "--select", "STB", "scripts/run.py"], tmp_path)) == cli
