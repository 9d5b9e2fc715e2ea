"""The analysis layer: one abstract value per expression, read by every rule.

``values`` defines the value, ``evaluate`` computes it, ``summaries`` holds the bounded
per-file facts that carry values across methods, modules, helpers and call sites.
"""
