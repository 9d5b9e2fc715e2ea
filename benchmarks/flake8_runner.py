"""Run flake8 with some installed plugins hidden from its plugin discovery.

    python benchmarks/flake8_runner.py --drop STB -- -j1 --exit-zero FILES...
    python benchmarks/flake8_runner.py -- -j1 --exit-zero FILES...     # every plugin

flake8 has no option to switch an installed plugin off: ``--extend-ignore STB`` only
hides its findings, the plugin still runs. To time "flake8 without stablelint" in the
same environment, this runner wraps ``flake8.plugins.finder._find_importlib_plugins``
(the generator flake8 uses to list the ``flake8.extension``/``flake8.report`` entry points
of installed distributions) and leaves out every plugin whose entry-point name (``STB``)
or distribution name (``stablelint``) is given with ``--drop``; then it calls flake8's own
``main``. Everything else, option parsing included, is stock flake8. Both benchmark rows
go through this runner, so they pay the same start-up.

If flake8 renames that function this runner exits with status 3 instead of silently
running every plugin; ``--version`` shows the plugins flake8 actually loaded, which is how
``bench.py`` checks that the drop worked.
"""

from __future__ import annotations

import argparse
import sys


def hide_plugins(dropped: set[str]) -> None:
    from flake8.plugins import finder

    original = getattr(finder, "_find_importlib_plugins", None)
    if original is None:
        sys.stderr.write("flake8_runner: flake8.plugins.finder._find_importlib_plugins is gone; cannot drop plugins\n")
        sys.exit(3)

    def find_without_dropped():
        for plugin in original():
            if plugin.entry_point.name in dropped or plugin.package in dropped:
                continue
            yield plugin

    finder._find_importlib_plugins = find_without_dropped


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, flake8_args = [], argv
    if "--" in argv:
        separator = argv.index("--")
        own, flake8_args = argv[:separator], argv[separator + 1:]
    parser = argparse.ArgumentParser(description="flake8 with some plugins hidden")
    parser.add_argument("--drop", action="append", default=[], metavar="NAME",
                        help="entry-point name (STB) or distribution name (stablelint) to hide; repeatable")
    args = parser.parse_args(own)
    if args.drop:
        hide_plugins(set(args.drop))

    from flake8.main.cli import main as flake8_main

    return flake8_main(flake8_args)


if __name__ == "__main__":
    sys.exit(main())
