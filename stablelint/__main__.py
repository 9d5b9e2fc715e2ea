"""``python -m stablelint`` and the ``stablelint`` command."""

import signal
import sys


def _quietly(signum, frame):
    # Ctrl-C (or SIGTERM) while the modules are still loading: end as the CLI would,
    # without a traceback of the import. main() installs the real handlers.
    raise SystemExit(128 + signum)


def run() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(signum, _quietly)
    from stablelint.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
