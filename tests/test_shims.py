"""NumPy reached through shims (autograd, trax, CuPy, the project's own re-exports): the code is
read as NumPy (or jax.numpy), and a fix is written in the shim's namespace — never by importing
the module the shim stands in for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stablelint import frameworks
from stablelint.config import shims_from_list
from stablelint.diagnostics import StablelintError
from stablelint.engine import check_source, fix_source


def _fixed(source: str, *, unsafe: bool = True) -> str:
    return fix_source(source, "shim.py", unsafe=unsafe).source


def test_autograd_is_read_as_numpy_and_fixed_through_autograd():
    source = "import autograd.numpy as np\n\n\ndef f(x):\n    return np.log(1 + np.clip(x, -1e-9, 1e-9))\n"
    assert [d.code for d in check_source(source, "shim.py")] == ["STB106"]
    fixed = _fixed(source)
    # float64, as NumPy: only an x the code bounds below 1e-8 loses more than half the digits
    assert "np.log1p(np.clip(x, -1e-9, 1e-9))" in fixed
    assert "import numpy" not in fixed.replace("import autograd.numpy", "")


def test_a_fix_never_imports_what_the_shim_stands_in_for():
    # scipy.special.log_expit has no autograd counterpart: reported, not fixed with real SciPy.
    source = "import autograd.numpy as np\n\n\ndef f(log_odds):\n    return np.log(1 / (1 + np.exp(-log_odds)))\n"
    assert [d.code for d in check_source(source, "shim.py")] == ["STB104"]
    assert _fixed(source) == source


def test_scipy_targets_go_through_the_shims_own_scipy():
    source = "import autograd.numpy as np\n\n\ndef f(log_w):\n    return np.log(np.sum(np.exp(log_w), axis=1))\n"
    fixed = _fixed(source)
    assert "autograd.scipy.special.logsumexp(log_w, axis=1)" in fixed and "import autograd.scipy.special" in fixed


def test_each_op_is_fixed_in_the_namespace_it_was_written_in():
    source = (
        "import numpy as onp\nimport autograd.numpy as np\n\n\ndef f(x):\n"
        "    return np.log(1 + np.clip(x, -1e-9, 1e-9)) + onp.log(1 + onp.clip(x, -1e-9, 1e-9))\n"
    )
    assert "np.log1p(np.clip(x, -1e-9, 1e-9)) + onp.log1p(onp.clip(x, -1e-9, 1e-9))" in _fixed(source)


def test_trax_fastmath_is_read_as_jax_and_fixed_through_fastmath():
    source = (
        "from trax import fastmath\nfrom trax.fastmath import numpy as jnp\n\n\ndef f(x):\n"
        "    return jnp.log(fastmath.expit(x)) + jnp.log(jnp.sum(jnp.exp(x), axis=-1))\n"
    )
    assert sorted(d.code for d in check_source(source, "shim.py")) == ["STB102", "STB104"]
    fixed = _fixed(source)
    assert "fastmath.logsumexp(x, axis=-1)" in fixed
    assert "jnp.log(fastmath.expit(x))" in fixed  # jax.nn.log_sigmoid has no fastmath spelling
    assert "import jax" not in fixed


def test_the_projects_own_numpy_module_is_unknown_until_configured():
    source = "from mypkg import np\n\n\ndef f(x):\n    return np.log(1 + np.clip(x, -1e-9, 1e-9))\n"
    assert check_source(source, "use.py") == []
    before = dict(frameworks.SHIMS)
    try:
        frameworks.add_shims({"mypkg.np": "numpy"})
        assert [d.code for d in check_source(source, "use.py")] == ["STB106"]
        assert "np.log1p(np.clip(x, -1e-9, 1e-9))" in _fixed(source)
    finally:
        for module in set(frameworks.SHIMS) - set(before):
            del frameworks.SHIMS[module]
            frameworks.MODULE_ALIASES.pop(module, None)
            frameworks.SPELLING_ALIASES.pop(module, None)


def test_numpy_like_entries_are_checked():
    assert shims_from_list(["mypkg.np", "mypkg.jnp = jax.numpy"], "x") == (
        ("mypkg.np", "numpy"), ("mypkg.jnp", "jax.numpy"),
    )
    with pytest.raises(StablelintError, match="re-exports 'pandas'"):
        shims_from_list(["mypkg.pd=pandas"], "x")
    with pytest.raises(StablelintError, match="not a module name"):
        shims_from_list(["my pkg"], "x")


def test_numpy_like_from_the_config_file_and_the_command_line(tmp_path):
    (tmp_path / "use.py").write_text("from mypkg import np\n\n\ndef f(x):\n    return np.log(1 + np.clip(x, -1e-9, 1e-9))\n")

    def run(*options):
        return subprocess.run(
            [sys.executable, "-m", "stablelint", "--no-cache", "use.py", *options],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )

    assert run("--isolated").returncode == 0
    assert "STB106" in run("--isolated", "--numpy-like", "mypkg.np").stdout
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nnumpy-like = ["mypkg.np"]\n')
    assert "STB106" in run().stdout
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nnumpy-like = "mypkg.np"\n')
    bad = run()
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "numpy-like" in bad.stderr


def test_a_project_module_that_hands_on_a_library_is_that_library():
    from stablelint.analysis.project import MemoryFiles, ProjectIndex

    source = (
        "from mypkg.backend import np\nfrom mypkg import numpy_all as mnp\n\n\ndef f(x):\n"
        "    return np.log(1 + np.clip(x, -1e-9, 1e-9)) + mnp.log(1 + mnp.clip(x, -1e-9, 1e-9))\n"
    )
    files = MemoryFiles({
        "mypkg/__init__.py": "", "mypkg/backend.py": "import autograd.numpy as np\n",
        "mypkg/numpy_all.py": "from numpy import *\n", "use.py": source,
    })
    index = ProjectIndex("/project", files=files)
    found = check_source(source, "use.py", project=index)
    assert [d.code for d in found] == ["STB106", "STB106"]
    fixes = [d.fix for d in found]
    assert all(fix is not None for fix in fixes)
    assert [edit.content for fix in fixes for edit in fix.edits] == [
        "np.log1p(np.clip(x, -1e-9, 1e-9))", "mnp.log1p(mnp.clip(x, -1e-9, 1e-9))",
    ]
    assert not [item for fix in fixes for item in fix.imports]  # nothing imported: numpy stays autograd's
    # Without the project, the names are unknown: silent.
    assert check_source(source, "use.py", project=False) == []


def test_numpy_like_from_the_config_in_the_flake8_plugin_and_the_language_server(tmp_path):
    (tmp_path / "use.py").write_text("from mypkg import np\n\n\ndef f(x):\n    return np.log(1 + np.clip(x, -1e-9, 1e-9))\n")
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nnumpy-like = ["mypkg.np"]\n')
    plugin = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "STB", "use.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "STB106" in plugin.stdout, plugin.stderr
    pytest.importorskip("pygls")
    server = subprocess.run(
        [sys.executable, "-c", "from stablelint.server import check; import sys; "
                               "print([d.code for d in check(sys.argv[1], open(sys.argv[1]).read()).findings])",
         str(tmp_path / "use.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert server.stdout.strip() == "['STB106']", server.stderr
