"""A re-check of an edited text (`stablelint.recheck`, what the language server runs at each
change) finds exactly what a full check of that text finds: same places, messages, fixes
and evidence, over random edits of the fixtures' real code."""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pytest

from stablelint import engine, recheck
from stablelint.diagnostics import ParseError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")


def _full(findings):
    # repr: a witness may hold nan, which equals nothing
    return [(finding, finding.fix, repr(finding.evidence)) for finding in findings]


def _same_as_full(source: str, path: str, previous):
    """Re-check ``source`` from ``previous``; assert it equals a full check; the new state."""
    try:
        expected = engine.check_source(source, path)
    except ParseError:
        with pytest.raises(ParseError):
            recheck.check(source, path, None, previous)
        return previous
    found, state = recheck.check(source, path, None, previous)
    assert _full(found) == _full(expected), source
    return state


def _edited(source: str, rng: random.Random) -> str:
    """One edit of the kinds typed in an editor: a line changed, removed, repeated or
    added, a name replaced by another of the file's, a number changed."""
    lines = source.splitlines(keepends=True)
    if not lines:
        return source
    at = rng.randrange(len(lines))
    line = lines[at]
    kind = rng.randrange(7)
    if kind == 0:
        del lines[at]
    elif kind == 1:
        lines.insert(at, line)
    elif kind == 2:
        lines.insert(at, rng.choice(["\n", "# a comment\n", "    \n"]))
    elif kind == 3:
        # Another line of the file with this one's indentation: a statement moved or copied.
        indent = line[: len(line) - len(line.lstrip())]
        others = [other for other in lines if other.startswith(indent) and not other[len(indent):][:1].isspace()]
        lines[at] = rng.choice(others) if others else line
    elif kind == 4:
        names = _IDENTIFIER.findall(source)
        spots = list(_IDENTIFIER.finditer(line))
        if spots and names:
            spot = rng.choice(spots)
            lines[at] = line[: spot.start()] + rng.choice(names) + line[spot.end():]
    elif kind == 5:
        numbers = list(re.finditer(r"\d+(?:\.\d*)?(?:e-?\d+)?", line))
        if numbers:
            number = rng.choice(numbers)
            lines[at] = line[: number.start()] + rng.choice(["0", "1", "1e-8", "2.5", "1e9"]) + line[number.end():]
    else:
        lines[at] = line.rstrip("\r\n") + "  # edited\n"
    return "".join(lines)


def _sources() -> list[tuple[str, str]]:
    files = sorted(FIXTURES.glob("STB*/*.py"))
    chosen = [(path.name, path.read_text()) for path in files]
    # Modules of several fixtures joined: more functions that see each other, names defined
    # twice, module-level code between them.
    rng = random.Random(22)
    for number in range(6):
        picked = rng.sample(files, 5)
        chosen.append((f"joined{number}.py", "\n\n".join(path.read_text() for path in picked)))
    return chosen


SOURCES = _sources()


@pytest.mark.parametrize("seed", range(6))
def test_a_first_pass_completed_finds_what_a_full_check_finds(seed, tmp_path):
    """The language server publishes a first pass (the function edited), then completes it;
    a new edit may come before the completion, and starts from the first pass."""
    rng = random.Random(100 + seed)
    for name, source in rng.sample(SOURCES, 8):
        path = str(tmp_path / name)
        Path(path).write_text(source)
        state = _same_as_full(source, path, None)
        for _ in range(6):
            source = _edited(source, rng)
            try:
                expected = engine.check_source(source, path)
            except ParseError:
                continue
            found, state = recheck.check(source, path, None, state, first=True)
            if state is not None and rng.random() < 0.7:
                if rng.random() < 0.5:
                    while len(state.pending) > 1:  # one range at a time, as the language server does
                        recheck.complete(state, parts=1)
                assert _full(recheck.complete(state)) == _full(expected), source
                assert not state.pending
            elif state is None:
                assert _full(found) == _full(expected)


@pytest.mark.parametrize("seed", range(12))
def test_random_edits_find_what_a_full_check_finds(seed, tmp_path):
    rng = random.Random(seed)
    for name, source in rng.sample(SOURCES, 8):
        path = str(tmp_path / name)
        Path(path).write_text(source)
        state = _same_as_full(source, path, None)
        for _ in range(6):
            source = _edited(source, rng)
            state = _same_as_full(source, path, state)


HELPER = '''\
import torch


def probabilities(z):
    return torch.softmax(z, dim=-1)


def unrelated(x):
    return torch.exp(x)


def loss(z):
    return torch.log(probabilities(z))
'''


def _walked(previous, source: str, path: str):
    """The line ranges a re-check walks (None: the whole file)."""
    walk = engine.plan_walk(source, path)
    layout = recheck._layout(source, walk.tree, recheck._line_starts(source))
    now = recheck.Previous(source, layout, walk.switches, recheck._file_words(source),
                           (walk.lines, walk.triggered.lines, walk.walrus_lines), [], {})
    again = recheck._to_walk(previous, now, dict(previous.names))
    return None if again is None else again[1]


def test_a_first_pass_walks_the_method_edited(tmp_path):
    source = HELPER + (
        "\n\nclass Model(torch.nn.Module):\n"
        "    def forward(self, z):\n        return loss(z)\n\n"
        "    def other(self, z):\n        return torch.log(torch.softmax(z, dim=-1))\n"
    )
    path = str(tmp_path / "model.py")
    _, state = recheck.check(source, path, None, None)
    edited = source.replace("return loss(z)", "return loss(z * 2)")
    found, first = recheck.check(edited, path, None, state, first=True)
    # forward (17-18) walked first; loss and probabilities (it calls them), the class line and other() after
    assert first.pending == [(4, 5), (12, 13), (16, 16), (19, 21)]
    assert _full(recheck.complete(first)) == _full(engine.check_source(edited, path))


def test_a_helper_edited_is_walked_again_with_its_callers_not_the_rest(tmp_path):
    path = str(tmp_path / "model.py")
    found, state = recheck.check(HELPER, path, None, None)
    assert [finding.code for finding in found] == ["STB101"]
    edited = HELPER.replace("torch.softmax(z, dim=-1)", "z")
    assert _walked(state, edited, path) == [(4, 5), (12, 13)]  # probabilities and loss, not unrelated
    found, _ = recheck.check(edited, path, None, state)
    assert found == engine.check_source(edited, path) == []


def test_a_function_whose_caller_changed_is_walked_again(tmp_path):
    source = HELPER + "\n\ndef main(x):\n    return loss(x)\n"
    path = str(tmp_path / "model.py")
    _, state = recheck.check(source, path, None, None)
    edited = source.replace("return loss(x)", "return loss(x @ x)")
    walked = _walked(state, edited, path)
    assert (12, 13) in walked and (4, 5) in walked and (8, 9) not in walked


def test_module_level_code_edited_is_a_full_check(tmp_path):
    path = str(tmp_path / "model.py")
    _, state = recheck.check(HELPER, path, None, None)
    assert _walked(state, HELPER.replace("import torch\n", "import torch\nEPS = 1e-8\n"), path) is None


def test_findings_kept_move_with_their_lines(tmp_path):
    source = HELPER + "\n\ndef direct(z):\n    return torch.log(torch.softmax(z, dim=-1))\n"
    path = str(tmp_path / "model.py")
    found, state = recheck.check(source, path, None, None)
    assert [(finding.line, "line" in finding.message) for finding in found] == [(13, True), (17, False)]
    edited = source.replace("def unrelated(x):\n", "def unrelated(x):\n    y = 1\n\n")
    # unrelated, and loss: its message names the line of the softmax, which moved
    assert _walked(state, edited, path) == [(8, 11), (14, 15)]
    found, _ = recheck.check(edited, path, None, state)
    assert _full(found) == _full(engine.check_source(edited, path))
    assert [finding.line for finding in found] == [15, 19]


@pytest.mark.parametrize("seed", range(4))
def test_a_tree_reparsed_in_part_is_the_tree_of_the_text(seed, tmp_path):
    """Where an edit keeps the number of lines, only the statement edited is parsed again."""
    rng = random.Random(seed)
    spliced = 0
    for name, source in rng.sample(SOURCES, 10):
        path = str(tmp_path / name)
        _, state = recheck.check(source, path, None, None)
        for _ in range(8):
            edited = _edited(source, rng)
            if state is None or state.tree is None:
                break
            tree = recheck._reparsed(state, edited, recheck._line_starts(edited))
            if tree is not None:
                spliced += 1
                assert ast.dump(tree, include_attributes=True) == ast.dump(ast.parse(edited), include_attributes=True)
            try:
                _, state = recheck.check(edited, path, None, state)
            except ParseError:
                continue
            source = edited
    assert spliced
