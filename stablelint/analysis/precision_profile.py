"""The project's precision profile: where it computes in float16 or bfloat16.

Whether ``scores.masked_fill(mask == 0, -1e9)`` overflows is decided far from the mask: in
the training script that wraps the step in ``torch.autocast``, builds a ``GradScaler``,
calls ``model.half()``, passes ``precision="16-mixed"`` to Lightning, ``fp16=True`` to a
Hugging Face ``TrainingArguments``, ``mixed_precision="fp16"`` to accelerate, sets a Keras
``mixed_float16`` policy, or builds a Flax module with ``dtype=jnp.bfloat16``. Each such
setting is *evidence*; the code it reaches is the evidence file's own project imports,
followed transitively (``train.py`` imports ``models``, which imports ``attention``).

A file is found by a text search for the settings' words first; only the files that
spell one are parsed, and only calls the imports resolve to the framework count (a string
that mentions ``autocast`` is no evidence). Tensor casts in expressions (``x.half()``)
are the file-level analysis's facts, not the project's: only a model converted whole
(``model.half()`` as a statement, ``Net().half()``) is.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from stablelint.ir import ImportTable

# Words a file must spell to hold evidence, written as the settings are written, so that few
# files are parsed: a call's parenthesis, a keyword's ``=`` and a literal value. Each pattern
# starts with its literal (searched fast, in C) and is run only where the literal stands; one
# alternation of them all was tried at every character of every file that says "half".
# The third member asks for a word boundary before the match.
_EVIDENCE_PATTERNS = tuple(
    (literal, re.compile(re.escape(literal) + rest), bounded)
    for literal, rest, bounded in (
        ("autocast", r"\s*\(", False),
        ("GradScaler", r"\s*\(", False),
        (".half(", r"\s*\)", False),
        (".bfloat16(", r"\s*\)", False),
        (".to(", r"[^)\n]*(?:float16|bfloat16|half)\b", False),
        ("precision", r"\s*=\s*[\"']?(?:bf)?16", False),
        ("fp16", r"\s*=\s*True", True),
        ("bf16", r"\s*=\s*True", True),
        ("half_precision", r"\s*=\s*True", True),
        ("mixed_precision", r"\s*=\s*[\"']", False),
        ("mixed_float16", "", False),
        ("mixed_bfloat16", "", False),
        ("dtype", r"\s*=\s*\w+\.(?:b?float16|half)\b", False),
        ("set_default_dtype", "", False),
    )
)


def _evidence_offsets(source: str) -> list[int]:
    """Where the file spells a setting of half precision (offsets, in order)."""
    offsets = []
    for literal, pattern, bounded in _EVIDENCE_PATTERNS:
        if literal not in source:
            continue
        for match in pattern.finditer(source):
            start = match.start()
            if bounded and start and (source[start - 1].isalnum() or source[start - 1] == "_"):
                continue
            offsets.append(start)
    offsets.sort()
    return offsets


_LIGHTNING_HALF = {"16": "float16", "16-mixed": "float16", "16-true": "float16", "bf16": "bfloat16",
                   "bf16-mixed": "bfloat16", "bf16-true": "bfloat16"}
_ACCELERATE_HALF = {"fp16": "float16", "bf16": "bfloat16"}
_KERAS_POLICIES = {"mixed_float16": "float16", "float16": "float16", "mixed_bfloat16": "bfloat16",
                   "bfloat16": "bfloat16"}
_HALF_ATTRIBUTES = {"float16": "float16", "half": "float16", "bfloat16": "bfloat16"}
# Receivers of ``.half()``/``.to(torch.float16)`` that name a model, not a tensor.
_MODEL_NAME = re.compile(r"(?i)model|net|module|encoder|decoder|transformer|backbone|policy")


@dataclass(frozen=True)
class Evidence:
    """One setting that makes the project compute in half precision."""

    path: str  # the file, relative to the project root
    line: int
    dtype: str  # float16 or bfloat16
    what: str  # ``uses torch.autocast``, ``sets Trainer(precision="16-mixed")`` …
    local: bool = False  # an autocast region: its own file is judged region by region
    mixed: bool = True  # autocast underneath (AMP, Lightning/HF/accelerate mixed): its float32 ops stay float32

    def said(self) -> str:
        verb = "trains" if self.dtype == "float16" else "computes"
        return f"this project {verb} in {self.dtype}: {self.path}:{self.line} {self.what}"


def stays_float32(value, depth: int = 0) -> bool:
    """Under mixed precision (autocast), is ``value`` computed in float32 anyway? The ops on
    autocast's float32 list (exp, log, softmax, sum …) are, and so is arithmetic with one
    of them (type promotion): ``softmax(z) + 1e-8`` adds in float32."""
    from stablelint.analysis.autocast import FLOAT32

    if value.kind in FLOAT32:
        return True
    if depth > 6 or value.kind in ("matmul", "linear"):
        return False
    return any(stays_float32(operand, depth + 1) for operand in value.operands)


def evidence_in(source: str, path: str) -> list[Evidence]:
    """The half-precision settings one file makes (empty for most files, without a parse)."""
    if not any(word in source for word in _LITERALS):
        return []
    offsets = _evidence_offsets(source)
    if not offsets:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines, line, counted_to = [], 1, 0
    for offset in offsets:  # line breaks counted from the last match on, not from 0 each time
        line += source.count("\n", counted_to, offset)
        counted_to = offset
        lines.append(line)
    lines = sorted(set(lines))
    imports = ImportTable.from_tree(tree)
    found: list[Evidence] = []
    for node in _on_lines(tree, lines):
        if isinstance(node, ast.Call):
            item = _call_evidence(node, imports, path)
            if item is not None:
                found.append(item)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            item = _model_cast(node.value, path, statement=True)
            if item is not None:
                found.append(item)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            item = _model_cast(node.value, path, statement=False, targets=node.targets)
            if item is not None:
                found.append(item)
    found.sort(key=lambda item: item.line)
    return found


# One of these stands in every file a pattern above matches (a fast test first).
_LITERALS = ("autocast", "GradScaler", "half", "float16", "precision", "fp16", "bf16", "set_default_dtype")


def _on_lines(tree: ast.Module, lines: list[int]):
    """The nodes whose line range holds one of ``lines`` (sorted): only they can be evidence."""
    from bisect import bisect_left

    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        start = getattr(node, "lineno", None)
        if start is not None:
            index = bisect_left(lines, start)
            if index == len(lines) or lines[index] > (node.end_lineno or start):
                continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _call_evidence(call: ast.Call, imports: ImportTable, path: str) -> Evidence | None:
    qualified = imports.qualified_name(call.func) or ""
    name = qualified.rpartition(".")[2] or (call.func.attr if isinstance(call.func, ast.Attribute) else
                                            getattr(call.func, "id", ""))
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    top = qualified.split(".")[0]
    if top == "torch" and name == "autocast":
        dtype = _autocast_dtype(call, qualified, keywords)
        if dtype is not None:
            return Evidence(path, call.lineno, dtype, f"uses {_short(qualified)}", local=True)
        return None
    if top == "torch" and name == "GradScaler":
        return Evidence(path, call.lineno, "float16", f"uses {_short(qualified)}")
    if top == "torch" and name == "set_default_dtype" and call.args:
        dtype = _half_attribute(call.args[0])
        return Evidence(path, call.lineno, dtype, "sets torch.set_default_dtype", mixed=False) if dtype else None
    precision = keywords.get("precision")
    if name == "Trainer" and precision is not None:
        said = precision.value if isinstance(precision, ast.Constant) else None
        dtype = _LIGHTNING_HALF.get(str(said)) if said is not None else None
        if dtype is not None:
            return Evidence(path, call.lineno, dtype, f"sets Trainer(precision={said!r})",
                            mixed="true" not in str(said))
    for flag, dtype in (("fp16", "float16"), ("bf16", "bfloat16")):
        value = keywords.get(flag)
        if isinstance(value, ast.Constant) and value.value is True and name.endswith(("Arguments", "Config", "Args")):
            return Evidence(path, call.lineno, dtype, f"sets {name}({flag}=True)")
    mixed = keywords.get("mixed_precision")
    if name == "Accelerator" and isinstance(mixed, ast.Constant) and mixed.value in _ACCELERATE_HALF:
        return Evidence(path, call.lineno, _ACCELERATE_HALF[mixed.value],
                        f"sets Accelerator(mixed_precision={mixed.value!r})")
    if name in ("set_global_policy", "set_policy", "Policy", "set_dtype_policy", "DTypePolicy") and call.args:
        policy = call.args[0]
        if isinstance(policy, ast.Constant) and policy.value in _KERAS_POLICIES and (
            top in ("tensorflow", "keras") or "mixed_precision" in qualified or name != "Policy"
        ):
            return Evidence(path, call.lineno, _KERAS_POLICIES[policy.value], f"sets the Keras policy {policy.value!r}",
                            mixed=False)
    if name in ("get_policy",) and top == "jmp" and call.args and isinstance(call.args[0], ast.Constant):
        text = str(call.args[0].value)
        if "compute=half" in text or "compute=float16" in text or "compute=bfloat16" in text:
            dtype = "bfloat16" if "bfloat16" in text else "float16"
            return Evidence(path, call.lineno, dtype, f"sets the jmp policy {text!r}", mixed=False)
    dtype_keyword = keywords.get("dtype")
    if dtype_keyword is not None and name[:1].isupper() and top not in ("torch", "numpy", "tensorflow", "keras"):
        # ``ResNet(dtype=jnp.bfloat16)``: a Flax module of the project built to compute in it.
        dtype = _half_attribute(dtype_keyword)
        jax_dtype = imports.qualified_name(dtype_keyword) or ""
        if dtype is not None and jax_dtype.startswith("jax"):
            return Evidence(path, call.lineno, dtype, f"builds {name}(dtype={_short(jax_dtype)})", mixed=False)
    half_flag = keywords.get("half_precision")
    if isinstance(half_flag, ast.Constant) and half_flag.value is True:
        return Evidence(path, call.lineno, "float16", f"sets {name or 'a config'}(half_precision=True)", mixed=False)
    torch_dtype = keywords.get("torch_dtype")
    if torch_dtype is not None and name == "from_pretrained":
        dtype = _half_attribute(torch_dtype)
        if dtype is not None:
            return Evidence(path, call.lineno, dtype, f"loads a model with torch_dtype={dtype}", mixed=False)
    return None


def _autocast_dtype(call: ast.Call, qualified: str, keywords: dict) -> str | None:
    enabled = keywords.get("enabled")
    if isinstance(enabled, ast.Constant) and enabled.value is False:
        return None
    said = keywords.get("dtype")
    if said is not None:
        return _half_attribute(said)
    device = keywords.get("device_type", call.args[0] if call.args else None)
    if qualified.startswith("torch.cpu.") or (isinstance(device, ast.Constant) and device.value == "cpu"):
        return "bfloat16"
    return "float16"  # CUDA's default, and what ``torch.cuda.amp.autocast()`` means


def _model_cast(call: ast.Call, path: str, *, statement: bool, targets=()) -> Evidence | None:
    """``model.half()`` as a statement, ``net = Net().half()``, ``model.to(torch.bfloat16)``:
    a model converted whole (a tensor cast inside an expression is the file's own fact)."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    dtype = None
    if func.attr == "half" and not call.args and not call.keywords:
        dtype = "float16"
    elif func.attr == "bfloat16" and not call.args and not call.keywords:
        dtype = "bfloat16"
    elif func.attr == "to":
        said = [*call.args, *(keyword.value for keyword in call.keywords if keyword.arg == "dtype")]
        dtype = next((_half_attribute(arg) for arg in said if _half_attribute(arg)), None)
    if dtype is None:
        return None
    receiver = func.value
    receiver_text = ast.unparse(receiver) if len(ast.dump(receiver)) < 400 else ""
    target_text = " ".join(ast.unparse(target) for target in targets)
    builds_a_class = isinstance(receiver, ast.Call) and _capitalized(receiver.func)
    names_a_model = bool(_MODEL_NAME.search(receiver_text)) or bool(_MODEL_NAME.search(target_text))
    if not (builds_a_class or names_a_model) or (not statement and not targets):
        return None
    return Evidence(path, call.lineno, dtype, f"converts {_short(receiver_text or 'a model')} with .{func.attr}()",
                    mixed=False)


def _capitalized(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name[:1].isupper()


def _half_attribute(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Attribute):
        return _HALF_ATTRIBUTES.get(expr.attr)
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return _HALF_ATTRIBUTES.get(expr.value)
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
