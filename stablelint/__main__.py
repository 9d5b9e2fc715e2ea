"""``python -m stablelint``: the same command as ``stablelint``."""

import sys

from stablelint.cli import main

if __name__ == "__main__":
    sys.exit(main())
