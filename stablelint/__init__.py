"""stablelint: find numerically unstable formulas and rewrite them into their stable forms."""

import os

__version__ = "0.1.0"

# Every rule's page is docs/rules/<CODE>.md in stablelint's source, and `stablelint rule
# CODE` (or `--explain CODE`) prints it offline. stablelint has no web site of its own:
# a finding links to a page (JSON `url`, SARIF `helpUri`, the language server's code link)
# only where STABLELINT_DOCS_URL says where the pages are served, e.g.
# https://git.example.org/stablelint/blob/<commit>/docs/rules/ (the page is <base><CODE>.md)
# or a template with {code}.
RULE_DOCS_PATH = "docs/rules/"
DOCS_URL_ENV = "STABLELINT_DOCS_URL"


def rule_doc_path(code: str) -> str:
    """Where the rule's page is in stablelint's source."""
    return f"{RULE_DOCS_PATH}{code}.md"


def rule_url(code: str) -> str | None:
    """The rule's page on the web, from ``$STABLELINT_DOCS_URL``; None where it is unset."""
    base = os.environ.get(DOCS_URL_ENV, "").strip()
    if not base:
        return None
    if "{code}" in base:
        return base.replace("{code}", code)
    return f"{base if base.endswith('/') else base + '/'}{code}.md"
