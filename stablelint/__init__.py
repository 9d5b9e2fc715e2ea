"""stablelint: find numerically unstable formulas and rewrite them into their stable forms."""

__version__ = "0.1.0"
