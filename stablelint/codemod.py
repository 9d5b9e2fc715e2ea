"""stablelint's fixes as a libcst codemod command, for projects that run their rewrites
with ``libcst.tool``:

    python -m libcst.tool codemod --no-format -x stablelint.codemod.StableForms PATH

or, with ``modules: ['stablelint']`` in the project's ``.libcst.codemod.yaml``
(libcst looks a command up as ``<module>.<command>``):

    python -m libcst.tool codemod --no-format codemod.StableForms PATH

The rewrite is the engine's own fix loop, so a file comes out exactly as
``stablelint --fix`` writes it: the same rules, the file's ``[tool.stablelint]`` settings
and ``# noqa`` comments, safe fixes unless ``--unsafe-fixes`` is given. A file with
nothing to fix is skipped. ``--no-format`` keeps libcst from running its formatter
(black by default) over the files it changed: the fixes already keep the formatting.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import libcst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from stablelint import engine
from stablelint.config import load_settings
from stablelint.noqa import keep_for


class StableForms(CodemodCommand):
    DESCRIPTION = "Rewrite numerically unstable formulas into their stable forms (stablelint's fixes)."

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes", dest="unsafe_fixes", action="store_true", default=False,
            help="also apply the unsafe fixes (as stablelint --fix --unsafe-fixes)",
        )

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    def transform_module_impl(self, tree: libcst.Module) -> libcst.Module:
        path = self.context.filename or "<stdin>"
        folder = Path(self.context.filename).parent if self.context.filename else Path.cwd()
        settings = load_settings(start=folder)  # a bad config fails the file, with its one-line reason
        source = tree.code
        outcome = engine.fix_source(
            source, path, keep=keep_for(path, settings), unsafe=self.unsafe_fixes, dtype=settings.assume_dtype
        )
        unfixed = [finding for finding in outcome.remaining if finding.fix is not None]
        if unfixed and not self.unsafe_fixes:
            codes = ", ".join(sorted({finding.code for finding in unfixed}))
            self.warn(f"{len(unfixed)} unsafe fix(es) not applied ({codes}); pass --unsafe-fixes to apply them")
        if outcome.source == source:
            raise SkipFile("nothing to fix")
        return libcst.parse_module(outcome.source, config=tree.config_for_parsing)
