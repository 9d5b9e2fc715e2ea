"""Cases found by probing the engine with odd but legal code: each once went wrong."""

from __future__ import annotations

import pytest

from stablelint.engine import check_source, fix_source

H = "import torch\nimport torch.nn.functional as F\nimport numpy as np\n"

# name -> (source, expected [(line, code, fix safety or None)], expected text of the unsafe fix or None)
CASES = {
    "comprehension variable shadows a definition": (
        H + "def f(z, xs):\n    p = torch.softmax(z, 1)\n    return [torch.log(p) for p in xs]\n", [], None),
    "lambda parameter shadows a definition": (
        H + "def f(z):\n    p = torch.softmax(z, 1)\n    return lambda p: torch.log(p)\n", [], None),
    "moved code would be captured by a comprehension variable": (
        H + "def f(x, zs):\n    p = torch.softmax(x, 1)\n    return [torch.log(p) for x in zs]\n",
        [(6, "STB101", None)], None),
    "walrus in a comprehension binds a comprehension value": (
        H + "def f(zs):\n    ys = [q for z in zs if (q := torch.softmax(z, 1)) is not None]\n    return torch.log(q)\n",
        [], None),
    "parameter shadows an imported function": (
        "from numpy import log\ndef f(log, x):\n    return log(1 + x.tanh() / 1e5)\n", [], None),
    "local shadows an imported function": (
        "from numpy import exp\ndef g(x):\n    exp = lambda v: v\n    return exp(x.tanh() / 1e5) - 1\n", [], None),
    "parameter named like a module": (
        "import math\ndef f(x, math):\n    return math.log(1 + x.tanh() / 1e5)\n", [], None),
    "local import of another module under the same name": (
        "import math\ndef f(x):\n    import mylib as math\n    return math.log(1 + x.tanh() / 1e5)\n", [], None),
    "loop rebinds the moved input after the use": (
        H + "def f(z, n):\n    p = torch.softmax(z, 1)\n    for _ in range(n):\n        y = torch.log(p)\n"
        "        z = z + 1\n    return y\n", [(7, "STB101", None)], None),
    "np.clip out=": (
        "import numpy as np\nfrom scipy.special import expit\ndef f(z):\n    p = expit(z)\n"
        "    np.clip(p, 1e-7, 1 - 1e-7, out=p)\n    return np.log(p)\n", [], None),
    "torch.clamp out=": (
        H + "def f(z):\n    p = torch.sigmoid(z)\n    torch.clamp(p, min=1e-7, out=p)\n    return torch.log(p)\n", [], None),
    "in-place function form": (
        H + "def f(z):\n    p = torch.sigmoid(z)\n    torch.nn.init.constant_(p, 0.5)\n    return torch.log(p)\n", [], None),
    "in-place through an alias": (
        H + "def f(z):\n    p = torch.sigmoid(z)\n    q = p\n    q.clamp_(min=1e-7)\n    return torch.log(p)\n", [], None),
    "in-place inside an assignment": (
        H + "def f(z):\n    p = torch.sigmoid(z)\n    _ = p.clamp_(min=1e-7)\n    return torch.log(p)\n", [], None),
    "in-place call on a module keeps the module name": (
        H + "def f(w, z):\n    torch.nn.init.zeros_(w)\n    return torch.log(torch.sigmoid(z))\n",
        [(6, "STB104", "safe")], "    return F.logsigmoid(z)"),
    "max by tuple unpacking": (
        H + "def f(x):\n    m, _ = torch.max(x, dim=1, keepdim=True)\n"
        "    return m + torch.log(torch.sum(torch.exp(x - m), dim=1, keepdim=True))\n", [], None),
    "max then unsqueeze": (
        H + "def f(x):\n    m = x.max(dim=1)[0].unsqueeze(1)\n    return m + torch.log(torch.exp(x - m).sum(1, keepdim=True))\n",
        [], None),
    "np.expand_dims of np.max": (
        H + "import scipy.special\ndef f(x):\n    m = np.expand_dims(np.max(x, axis=1), 1)\n"
        "    return m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))\n", [], None),
    "in-place max subtraction": (
        H + "def f(x):\n    x -= x.max(dim=-1, keepdim=True).values\n    return torch.log(torch.exp(x).sum(-1))\n", [], None),
    "x.sub(m)": (
        H + "def f(x):\n    m = x.max(dim=1, keepdim=True).values\n"
        "    return m + torch.log(torch.exp(x.sub(m)).sum(1, keepdim=True))\n", [], None),
    "max of another tensor is no guard": (
        H + "def f(x, y):\n    return torch.log(torch.exp(x - y.max()).sum(1))\n",
        [(5, "STB102", "safe")], "    return (x - y.max()).logsumexp(1)"),
    "a name containing softmax is no max": (
        H + "def f(x, softmax_scale):\n    return torch.log(torch.exp(x - softmax_scale).sum(1))\n",
        [(5, "STB102", "safe")], "    return (x - softmax_scale).logsumexp(1)"),
    "a comment inside the replaced call makes the fix unsafe": (
        H + "def f(x):\n    return torch.log(  # keep me\n        1 + x.tanh() / 1e5  # and me\n    )\n",
        [(5, "STB106", "unsafe")], "    return torch.log1p(x.tanh() / 1e5)"),
    "a comment carried over by the fix keeps it safe": (
        H + "def f(x):\n    return torch.log(torch.softmax(  # keep me\n        x, 1))\n",
        [(5, "STB101", "safe")], "    return torch.log_softmax(  # keep me"),
    "softmax over a tuple of dims has no PyTorch fix": (
        H + "def f(x):\n    return torch.exp(x) / torch.exp(x).sum(dim=(1, 2), keepdim=True)\n",
        [(5, "STB103", None)], None),
    "parenthesized callee": (
        H + "def f(z):\n    return torch.log((F.softmax)(z, 1))\n", [(5, "STB101", "safe")], "    return F.log_softmax(z, 1)"),
    "CR-only line endings": (
        "import torch\rdef f(x):\r    return torch.log(1 + x.tanh() / 1e5)\r", [(3, "STB106", "safe")], None),
    "mixed line endings": (
        "import torch\r\ndef f(x):\r    y = 1\n    return torch.log(1 + x.tanh() / 1e5)\r\n", [(4, "STB106", "safe")], None),
    "byte-order mark": ("\ufeffimport torch\ny = torch.log(1 + x.tanh() / 1e5)\n", [(2, "STB106", "safe")], "y = torch.log1p(x.tanh() / 1e5)"),
    "a chain of names from exp": (
        H + "def f(x):\n    x = x.clamp(-1e-5, 1e-5)\n    e = torch.exp(x)\n    w = e\n    return w - 1\n",
        [(8, "STB107", "safe")], "    return torch.expm1(x)"),
    "float names are not counts": (
        H + "def f(step_size, lengthscale, t):\n    step_size = step_size.clamp(0, 1e-5)\n"
        "    lengthscale = lengthscale.clamp(0, 1e-5)\n    t = t.clamp(0, 1e-5)\n"
        "    return torch.log(1 + step_size), torch.log(1 + lengthscale), torch.log(1 + t)\n",
        [(8, "STB106", "safe")] * 3, None),
    "starred arguments of the sum": (
        H + "def f(log_p, rest):\n    return np.log(np.sum(np.exp(log_p), *rest))\n", [(5, "STB102", None)], None),
    "exp(*args) is not log1p's": (H + "def f(*args):\n    return torch.log(1 + torch.exp(*args))\n", [], None),
    "ones_like(p) - p and exp(x) - ones_like(x)": (
        H + "def f(x, z):\n    x = x.clamp(-1e-5, 1e-5)\n    p = torch.sigmoid(z)\n"
        "    return torch.log(torch.ones_like(p) - p), torch.exp(x) - torch.ones_like(x)\n",
        [(7, "STB105", "safe"), (7, "STB107", "safe")], "    return F.logsigmoid(-z), torch.expm1(x)"),
    "a module holding part of keras.ops is not used to spell the rest": (
        "from keras.src.ops import core\ny = core.log(1 + core.exp(x))\n",
        [(2, "STB108", "unsafe")], "y = keras.ops.softplus(x)"),
    "scipy.special reached through import scipy.signal is imported": (
        "import numpy as np\nimport scipy.signal\ny = np.log(np.sum(np.exp(log_p)))\n",
        [(3, "STB102", "safe")], "import scipy.special"),
    "a local alias of log": (H + "def f(x):\n    log = torch.log\n    return log(1 + x.tanh() / 1e5)\n", [(6, "STB106", "safe")], "    return torch.log1p(x.tanh() / 1e5)"),
}


@pytest.mark.parametrize("name", CASES)
def test_regression(name):
    source, expected, fixed_line = CASES[name]
    found = [(d.line, d.code, d.fix and d.fix.safety) for d in check_source(source, "t.py")]
    assert found == expected
    fixed = fix_source(source, "t.py", unsafe=True).source
    if fixed_line is not None:
        assert fixed_line in fixed.splitlines()
    elif all(safety is None for _, _, safety in expected):
        assert fixed == source, "a finding without a fix changed the file"
