"""log/exp as op objects of the file's own op registry: followed where the registry is defined in
the file (reported, not rewritten: the code is the registry's), unknown where it is not."""

from __future__ import annotations

from stablelint.engine import check_source, fix_source

REGISTRY = '''import functools
import math

import numpy as np


class Op:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)


OPS = {"log": math.log, "exp": math.exp}
Log = Op(math.log)
plog = functools.partial(np.log)
vlog = np.vectorize(math.log)


def f(x):
    x = np.clip(x, 0, 1e-5).astype(np.float32)  # float32 below 2.5e-4: log(1 + x) loses more than half its digits
    return {call}
'''


def _codes(call: str) -> list[str]:
    return [d.code for d in check_source(REGISTRY.replace("{call}", call), "ops.py")]


def test_ops_of_the_files_registry_are_followed():
    for call in ('OPS["log"](1 + x)', "Log(1 + x)", "plog(1 + x)", "vlog(1 + x)"):
        assert _codes(call) == ["STB106"], call


def test_a_registry_op_is_reported_without_a_fix():
    source = REGISTRY.replace("{call}", "Log(1 + x)")
    assert fix_source(source, "ops.py", unsafe=True).source == source


def test_an_op_class_from_elsewhere_stays_unknown():
    source = "import math\n\nfrom autodiff.ops import Op\n\nLog = Op(math.log)\n\n\ndef f(x):\n    return Log(1 + x)\n"
    assert check_source(source, "ops.py") == []


def test_a_class_that_does_not_call_what_it_was_given_stays_unknown():
    source = (
        "import math\n\n\nclass Op:\n    def __init__(self, fn):\n        self.fn = fn\n\n"
        "    def __call__(self, x):\n        return x\n\n\nLog = Op(math.log)\n\n\ndef f(x):\n    return Log(1 + x)\n"
    )
    assert check_source(source, "ops.py") == []


def test_a_module_level_alias_is_an_alias():
    source = "import torch\n\nlog = torch.log\n\n\ndef f(x):\n    return log(1 + x.tanh() / 1e5)\n"
    assert [d.code for d in check_source(source, "ops.py")] == ["STB106"]
    assert "torch.log1p(x.tanh() / 1e5)" in fix_source(source, "ops.py").source
