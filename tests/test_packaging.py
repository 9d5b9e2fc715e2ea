"""The package as an index would show it: the metadata of a built wheel, the README as its
page (no link that only works inside the repository), and rule pages that need no network."""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def metadata(tmp_path_factory) -> email.message.Message:
    folder = tmp_path_factory.mktemp("wheel")
    # No build isolation: the environment's setuptools builds it, with no index needed.
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = folder.glob("stablelint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
        (meta,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(meta))


def test_the_wheel_says_mit_by_its_spdx_expression(metadata):
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    classifiers = metadata.get_all("Classifier")
    assert "Topic :: Software Development :: Quality Assurance" in classifiers
    # PEP 639: with a license expression, no license classifier.
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_the_wheel_names_no_address_the_project_does_not_have(metadata):
    text = metadata.as_string()
    assert "stablelint/stablelint" not in text
    assert metadata.get_payload().startswith("# stablelint")  # the README is the index page


def test_every_readme_link_works_on_an_index_page():
    # A relative link (docs/rules/STB101.md) resolves only inside the repository; on an index
    # page it is dead. Links are absolute, or the path is named as text.
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    assert [link for link in links if not re.match(r"https?://", link)] == []
    assert "<this repository" not in README and "rev: v0.1.0" not in README


def test_the_readme_installs_from_the_source_not_from_an_index():
    assert "pip install stablelint\n" not in README and "pip install 'stablelint[lsp]'" not in README
    assert "pip install ." in README and "pip wheel --no-deps -w dist ." in README


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stablelint", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_rule_pages_are_offline_and_link_only_where_told():
    plain = cli("rule", "STB106", env={"STABLELINT_DOCS_URL": ""})
    assert plain.returncode == 0 and plain.stdout.startswith("# STB106 `log-of-one-plus`")
    assert plain.stdout.rstrip().endswith("This page is docs/rules/STB106.md in stablelint's source.")
    assert "http" not in plain.stdout.splitlines()[-1]
    served = cli("rule", "STB106", "--output-format", "json", env={"STABLELINT_DOCS_URL": "https://docs.example.org/r/"})
    item = json.loads(served.stdout)
    assert item["url"] == "https://docs.example.org/r/STB106.md"
    assert item["explanation"].startswith("# STB106")
