"""[tool.stablelint]: finding it, validating it, and what select/ignore/per-file-ignores report."""

from __future__ import annotations

from pathlib import Path

import pytest

from stablelint.config import (
    DEFAULT_EXCLUDE,
    RuleSelection,
    Settings,
    find_config,
    load_settings,
    parse_per_file_ignores,
    split_codes,
)
from stablelint.diagnostics import StablelintError


def write_config(folder: Path, body: str, name: str = "pyproject.toml") -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


# -- finding and reading the file


def test_nearest_pyproject_with_a_stablelint_table_wins(tmp_path):
    write_config(tmp_path, '[tool.stablelint]\nignore = ["STB106"]\n')
    nested = tmp_path / "pkg" / "sub"
    nested.mkdir(parents=True)
    # A pyproject.toml without [tool.stablelint] on the way up is passed over, as ruff does.
    write_config(tmp_path / "pkg", '[project]\nname = "pkg"\n')
    assert find_config(nested) == (tmp_path / "pyproject.toml").resolve()
    settings = load_settings(start=nested)
    assert settings.root == tmp_path.resolve()
    assert not settings.is_selected("STB106")
    assert settings.is_selected("STB101")


def test_no_config_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(start=tmp_path)
    assert settings.config_file is None
    assert settings.is_selected("STB101") and settings.is_selected("STB501")
    assert settings.exclude == DEFAULT_EXCLUDE


def test_isolated_ignores_the_config(tmp_path):
    write_config(tmp_path, '[tool.stablelint]\nselect = ["STB2"]\n')
    assert not load_settings(start=tmp_path).is_selected("STB101")
    assert load_settings(start=tmp_path, isolated=True).is_selected("STB101")


def test_explicit_config_file_is_used(tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    config = write_config(other, '[tool.stablelint]\nignore = ["STB1"]\n', name="lint.toml")
    write_config(tmp_path, '[tool.stablelint]\nignore = ["STB2"]\n')
    settings = load_settings(start=tmp_path, config_file=config)
    assert not settings.is_selected("STB101")
    assert settings.is_selected("STB201")
    assert settings.root == other.resolve()


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(StablelintError, match="not found"):
        load_settings(start=tmp_path, config_file=tmp_path / "nope.toml")


def test_underscore_spellings_are_accepted(tmp_path):
    write_config(
        tmp_path,
        '[tool.stablelint]\nextend_select = ["STB1"]\nper_file_ignores = { "t.py" = ["STB1"] }\n'
        "respect_gitignore = false\n",
    )
    settings = load_settings(start=tmp_path)
    assert settings.respect_gitignore is False
    assert settings.ignored_in(str(tmp_path / "t.py")) == ("STB1",)


@pytest.mark.parametrize(
    "body, fragments",
    [
        ('selct = ["STB"]', ["selct", "did you mean 'select'"]),
        ('colour = "red"', ["colour", "known keys"]),
        ('select = "STB1"', ["select", "expected a list", "a string"]),
        ('ignore = ["E501"]', ["ignore", "'E501' is not a stablelint code prefix"]),
        ('ignore = ["stb101"]', ["'stb101'", "did you mean 'STB101'"]),
        ('select = ["STB1011"]', ["STB1011"]),
        ("ignore = [101]", ["ignore", "expected a list"]),
        ('respect-gitignore = "yes"', ["respect-gitignore", "true or false"]),
        ('per-file-ignores = ["tests/*"]', ["per-file-ignores", "expected a table"]),
        ('per-file-ignores = { "tests/*" = "STB1" }', ["per-file-ignores", "tests/*", "expected a list"]),
        ('exclude = "build"', ["exclude", "glob patterns"]),
        ('assume-dtype = "fp16"', ["assume-dtype", "float16, bfloat16, float32, float64", "'fp16'"]),
        ('select = ["STB"]\nselect_ = 1', ["select_"]),
        ('ignore = ["STB1"]\nextend-ignore = ["STB2"]\nextend_ignore = ["STB3"]', ["given twice"]),
    ],
)
def test_bad_config_names_the_file_and_the_key(tmp_path, body, fragments):
    config = write_config(tmp_path, f"[tool.stablelint]\n{body}\n")
    with pytest.raises(StablelintError) as raised:
        load_settings(start=tmp_path)
    message = str(raised.value)
    assert str(config.resolve()) in message
    for fragment in fragments:
        assert fragment in message


def test_invalid_toml_is_an_error_naming_the_file(tmp_path):
    config = write_config(tmp_path, "[tool.stablelint\nselect = [\n")
    with pytest.raises(StablelintError, match="invalid TOML") as raised:
        load_settings(start=tmp_path)
    assert str(config.resolve()) in str(raised.value)


def test_stablelint_that_is_not_a_table_is_an_error(tmp_path):
    write_config(tmp_path, '[tool]\nstablelint = "on"\n')
    with pytest.raises(StablelintError, match="must be a table"):
        load_settings(start=tmp_path)


# -- which codes are reported


def selected(*layers: RuleSelection) -> Settings:
    return Settings(root=Path.cwd(), selections=(RuleSelection(select=("STB",)), *layers))


@pytest.mark.parametrize(
    "layers, code, expected",
    [
        ([], "STB101", True),
        ([RuleSelection(ignore=("STB1",))], "STB101", False),
        ([RuleSelection(ignore=("STB1",))], "STB201", True),
        # The longer prefix decides, whichever side it is on (ruff and flake8 agree).
        ([RuleSelection(select=("STB101",), ignore=("STB1",))], "STB101", True),
        ([RuleSelection(select=("STB101",), ignore=("STB1",))], "STB102", False),
        ([RuleSelection(select=("STB1",), ignore=("STB106",))], "STB106", False),
        # A tie goes to ignore.
        ([RuleSelection(select=("STB1",), ignore=("STB1",))], "STB101", False),
        # select narrows what is reported at all.
        ([RuleSelection(select=("STB1",))], "STB201", False),
        ([RuleSelection(select=("STB1",), extend_select=("STB2",))], "STB201", True),
        # A layer above that sets select starts afresh (the command line over the config)...
        ([RuleSelection(ignore=("STB106",)), RuleSelection(select=("STB106",))], "STB106", True),
        ([RuleSelection(ignore=("STB106",)), RuleSelection(select=("STB106",))], "STB101", False),
        # ...one that only extends or ignores builds on the layers below.
        ([RuleSelection(select=("STB1",)), RuleSelection(extend_select=("STB2",))], "STB101", True),
        ([RuleSelection(select=("STB1",)), RuleSelection(extend_select=("STB2",))], "STB301", False),
        ([RuleSelection(ignore=("STB1",)), RuleSelection(extend_select=("STB106",))], "STB106", True),
        ([RuleSelection(ignore=("STB1",)), RuleSelection(extend_select=("STB106",))], "STB105", False),
        ([RuleSelection(select=("STB106",)), RuleSelection(ignore=("STB1",))], "STB106", False),
    ],
)
def test_selection_by_prefix(layers, code, expected):
    assert selected(*layers).is_selected(code) is expected


def test_command_line_select_overrides_the_config_ignore(tmp_path):
    write_config(tmp_path, '[tool.stablelint]\nignore = ["STB106"]\n')
    settings = load_settings(start=tmp_path)
    assert not settings.is_selected("STB106")
    assert settings.with_overrides(select=["STB106"]).is_selected("STB106")
    assert not settings.with_overrides(extend_select=["STB2"]).is_selected("STB106")
    assert not settings.with_overrides(ignore=["STB101"]).is_selected("STB101")


def test_per_file_ignores_are_relative_to_the_config_folder(tmp_path):
    write_config(
        tmp_path,
        "[tool.stablelint]\n"
        '[tool.stablelint.per-file-ignores]\n"tests/**" = ["STB1"]\n"__init__.py" = ["STB106"]\n"*_gen.py" = ["STB"]\n',
    )
    settings = load_settings(start=tmp_path)
    reports_in = lambda relative: settings.reports(str(tmp_path / relative))  # noqa: E731
    assert not reports_in("tests/deep/test_x.py")("STB101")
    assert reports_in("tests/deep/test_x.py")("STB201")
    assert reports_in("src/tests_like.py")("STB101")
    assert not reports_in("src/pkg/__init__.py")("STB106")
    assert reports_in("src/pkg/__init__.py")("STB101")
    assert not reports_in("anywhere/model_gen.py")("STB999")
    assert reports_in("src/model.py")("STB101")


def test_per_file_ignores_pattern_with_a_folder_does_not_match_elsewhere(tmp_path):
    write_config(tmp_path, '[tool.stablelint]\nper-file-ignores = { "tests/*.py" = ["STB1"] }\n')
    settings = load_settings(start=tmp_path)
    assert settings.ignored_in(str(tmp_path / "tests" / "a.py")) == ("STB1",)
    assert settings.ignored_in(str(tmp_path / "src" / "tests" / "a.py")) == ()


def test_setting_exclude_replaces_the_defaults_and_extend_exclude_adds(tmp_path):
    write_config(tmp_path, '[tool.stablelint]\nexclude = ["gen"]\nextend-exclude = ["third_party/**"]\n')
    settings = load_settings(start=tmp_path)
    matcher = settings.exclude_matcher()
    assert matcher.matches(str(tmp_path / "a" / "gen"))
    assert matcher.matches(str(tmp_path / "third_party" / "x" / "y.py"))
    assert matcher.matches(str(tmp_path / "third_party"))
    assert not matcher.matches(str(tmp_path / "build"))  # no longer a default once exclude is set


# -- command-line values


def test_split_codes_accepts_commas_and_spaces():
    assert split_codes("STB1, STB202 STB3,", "--select") == ["STB1", "STB202", "STB3"]


def test_split_codes_rejects_other_codes_naming_the_option():
    with pytest.raises(StablelintError, match="--ignore: 'E501'"):
        split_codes("STB1,E501", "--ignore")


def test_parse_per_file_ignores_flake8_format():
    assert parse_per_file_ignores("tests/*:STB1,STB2 setup.py:STB106") == [
        ("tests/*", ("STB1", "STB2")),
        ("setup.py", ("STB106",)),
    ]
    assert parse_per_file_ignores("a.py: STB1 STB2") == [("a.py", ("STB1", "STB2"))]
    with pytest.raises(StablelintError):
        parse_per_file_ignores("STB1")
    with pytest.raises(StablelintError):
        parse_per_file_ignores("a.py:")


def test_assume_dtype_from_the_config_and_the_command_line(tmp_path):
    write_config(tmp_path, '[tool.stablelint]\nassume-dtype = "float16"\n')
    settings = load_settings(start=tmp_path)
    assert settings.assume_dtype == "float16"
    assert settings.with_overrides(assume_dtype="bfloat16").assume_dtype == "bfloat16"
    assert load_settings(start=tmp_path, isolated=True).assume_dtype is None


def test_the_interval_rules_are_opt_in(tmp_path):
    default = load_settings(start=tmp_path, isolated=True)
    assert default.is_selected("STB101") and not default.is_selected("STB402")
    assert not default.with_overrides(select=["STB"]).is_selected("STB402")
    assert default.with_overrides(extend_select=["STB4"]).is_selected("STB402")
    assert default.with_overrides(select=["STB402"]).is_selected("STB402")
    assert not default.with_overrides(select=["STB402"]).is_selected("STB401")
    write_config(tmp_path, '[tool.stablelint]\nextend-select = ["STB4"]\n')
    assert load_settings(start=tmp_path).is_selected("STB405")
