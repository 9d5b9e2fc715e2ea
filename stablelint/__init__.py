"""stablelint: find numerically unstable formulas and rewrite them into their stable forms."""

__version__ = "0.1.0"

REPOSITORY_URL = "https://github.com/stablelint/stablelint"
# Every rule's page, docs/rules/<CODE>.md: the one address JSON, SARIF, GitHub annotations
# and `--explain` give for a rule.
RULE_DOCS_URL = f"{REPOSITORY_URL}/blob/main/docs/rules/"


def rule_url(code: str) -> str:
    return f"{RULE_DOCS_URL}{code}.md"
