"""Names real code gives to whole numbers: ``log(1 + n)`` of a count loses nothing."""

from __future__ import annotations

import re

_COUNT_NAME = re.compile(
    r"(n|m|k|i|j|idx|index|depth|level|count|counts|length|size|len|dim|ndim|epoch|epochs|step|steps"
    r"|global_step|iteration|iterations|num_\w+|n_\w+|\w+_count|\w+_len|\w+_length|\w+_dim|\w+_steps"
    r"|\w+_epochs|(?:batch|hidden|vocab|window|kernel|patch|image|seq|sequence|embed|feature|input|output"
    r"|block|chunk|group|head|sample|population|corpus|dataset|buffer|memory|pool|grid)_size)"
)


def is_count_name(name: str) -> bool:
    return _COUNT_NAME.fullmatch(name) is not None
