"""Every test's runs cache into a folder of that test's own (``$STABLELINT_CACHE_DIR``, which
the spawned commands inherit): no test sees another's entries, and none writes a
``.stablelint_cache`` into the folder it checks, whose listing a test may compare."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STABLELINT_CACHE_DIR", str(tmp_path_factory.mktemp("stablelint-cache")))
