"""STB501/STB502 under ``assume-dtype = "float16"``: unknown tensors count as float16,
Python numbers, whole numbers and uncast NumPy arrays do not (false positives found on
the corpus, benchmarks/findings_audit/catalog_precision.csv)."""

from __future__ import annotations

import pytest

from stablelint.engine import check_source

PRELUDE = "import numpy as np\nimport torch\n\n\ndef f(x, v, sigma, scores, mask, seed, n):\n"


def codes(body: str, dtype: str | None = "float16") -> list[str]:
    source = PRELUDE + "".join(f"    {line}\n" for line in body.splitlines())
    return [d.code for d in check_source(source, "example.py", dtype=dtype) if d.code.startswith("STB5")]


@pytest.mark.parametrize(("body", "code"), [
    ("return torch.log(x + 1e-8)", "STB501"),
    ("return x.clamp(min=1e-10)", "STB501"),
    ("return scores.masked_fill(mask == 0, -1e9)", "STB502"),
    ("return torch.where(mask, scores, -1e9)", "STB502"),
])
def test_assumed_half_precision_is_reported(body, code):
    assert codes(body) == [code]
    assert codes(body, dtype=None) == []  # float32 holds 1e-8 and -1e9


@pytest.mark.parametrize("body", [
    "return float(v) + 1e-12",
    "return v.item() + 1e-8",
    "return np.log(np.maximum(sigma, 1e-10))",
    "return len(x) + 1e-9",
    "return n + 1e-9",
    "return (scores * 65535.0).astype(np.uint16)",
    "return seed - 0x80000000",
    "return b'A' * 100_000",
    "return x * 1e6",
    "return torch.log(x.half() + 1e-4)",
    "f = torch.fft.fftfreq(n, dtype=torch.float32)\nreturn 1.0 / (f.abs() + 1e-16)",
])
def test_what_assume_dtype_does_not_make_half(body):
    assert codes(body) == []


def test_arithmetic_with_a_said_float16_is_reported():
    assert codes("m = mask.half()\nreturn (1.0 - m) * -1e9", dtype=None) == ["STB502"]
