"""Settings: ``[tool.stablelint]`` in pyproject.toml, command-line overrides, and the
answer they give to "is this code reported in this file?"."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from stablelint.diagnostics import StablelintError


def _tomllib():
    """tomllib, imported when a TOML text is read: its patterns take ~10 ms to compile, which
    a run with no configuration to read (a warm re-run with ``--isolated``) need not pay."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib

CODE_PREFIX = re.compile(r"STB[0-9]{0,3}")

# ruff's default excludes plus the ones an ML project accumulates; like ruff's and
# flake8's `exclude`, setting `exclude` replaces this list and `extend-exclude` adds to it.
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", ".vscode", "__pycache__", "__pypackages__", "_build",
    "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
)


class PathMatcher:
    """Glob patterns matched the way ruff and flake8 match them: a pattern without a
    slash against the file's name (``build``, ``*_pb2.py``); one with a slash against
    the absolute path, the pattern being relative to ``root`` (``tests/**``)."""

    def __init__(self, patterns: tuple[str, ...], root: Path):
        name_patterns, path_patterns = [], []
        for pattern in patterns:
            if "/" not in pattern.rstrip("/"):
                name_patterns.append(pattern.rstrip("/"))
                continue
            absolute = os.path.normpath(os.path.join(root, pattern))
            path_patterns.append(absolute)
            # `a/**/b` also means `a/b`, and `a/**` also names the folder `a` itself.
            if "/**/" in absolute:
                path_patterns.append(absolute.replace("/**/", "/"))
            if absolute.endswith("/**"):
                path_patterns.append(absolute[:-3])
        self._name = _compile(name_patterns)
        self._path = _compile(path_patterns)

    def __bool__(self) -> bool:
        return self._name is not None or self._path is not None

    def matches(self, absolute_path: str) -> bool:
        absolute_path = os.path.normcase(absolute_path)
        if self._name is not None and self._name.match(os.path.basename(absolute_path)):
            return True
        return self._path is not None and self._path.match(absolute_path) is not None


def _compile(patterns: list[str]) -> re.Pattern | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns))


@dataclass(frozen=True)
class RuleSelection:
    """One layer of code selection: the defaults, the config file, the command line.

    As in ruff, the most specific matching prefix decides within a layer (an ignore wins
    a tie), and a layer that sets ``select`` replaces what the layers below chose.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def decide(self, code: str) -> bool | None:
        verdict, longest = None, -1
        for prefix in (*(self.select or ()), *self.extend_select):
            if code.startswith(prefix) and len(prefix) > longest:
                verdict, longest = True, len(prefix)
        for prefix in self.ignore:
            if code.startswith(prefix) and len(prefix) >= longest:
                verdict, longest = False, len(prefix)
        return verdict


DEFAULT_SELECTION = RuleSelection(select=("STB",))

# Rule families that run only when a selection names them (``--extend-select STB4``):
# their precision on real code is not yet what the default set promises. STB602/STB603
# (an inverse times a vector, the normal equations) lose digits only on an ill-conditioned
# matrix, which the analysis cannot prove: on unknown matrices they are style, not consequence.
OPT_IN_PREFIXES = ("STB4", "STB203", "STB602", "STB603")


def names_opt_in(prefixes) -> set[str]:
    """The opt-in families that these selected prefixes name explicitly."""
    prefixes = tuple(prefixes)  # read once per family
    return {family for family in OPT_IN_PREFIXES for prefix in prefixes if prefix.startswith(family)}


@dataclass(frozen=True)
class Settings:
    root: Path  # where relative patterns start: the config file's folder, else the cwd
    config_file: Path | None = None
    selections: tuple[RuleSelection, ...] = (DEFAULT_SELECTION,)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    assume_dtype: str | None = None  # what tensors compute in where the code does not say
    cache_dir: str | None = None  # `cache-dir`, absolute (stablelint/cache.py)
    numpy_like: tuple[tuple[str, str], ...] = ()  # `numpy-like`: (module, the module it re-exports)
    fixable: tuple[str, ...] | None = None  # code prefixes --fix may fix (None: all)
    unfixable: tuple[str, ...] = ()  # code prefixes --fix never fixes (wins over `fixable`)
    _selected: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def is_selected(self, code: str) -> bool:
        selected = self._selected.get(code)
        if selected is None:
            opt_in = [family for family in OPT_IN_PREFIXES if code.startswith(family)]
            named = names_opt_in(
                prefix for layer in self.selections for prefix in (*(layer.select or ()), *layer.extend_select)
            )
            if opt_in and not set(opt_in) <= named:
                self._selected[code] = False
                return False
            selected = False
            for layer in self.selections:
                verdict = layer.decide(code)
                if layer.select is not None:
                    selected = verdict is True
                elif verdict is not None:
                    selected = verdict
            self._selected[code] = selected
        return selected

    def ignored_in(self, path: str) -> tuple[str, ...]:
        """The code prefixes ``per-file-ignores`` turns off for ``path``."""
        absolute = os.path.abspath(path)
        return tuple(code for matcher, codes in self._per_file_matchers if matcher.matches(absolute) for code in codes)

    @cached_property
    def _per_file_matchers(self) -> list[tuple[PathMatcher, tuple[str, ...]]]:
        return [(PathMatcher((pattern,), self.root), codes) for pattern, codes in self.per_file_ignores]

    def reports(self, path: str):
        """A predicate ``code -> bool`` for one file: selected and not ignored there."""
        ignored = self.ignored_in(path)
        return lambda code: self.is_selected(code) and not code.startswith(ignored)

    def can_fix(self, code: str) -> bool:
        """May ``--fix`` (and the editor's fix-all) fix this code? ruff's fixable/unfixable."""
        return (self.fixable is None or code.startswith(self.fixable)) and not code.startswith(self.unfixable)

    def exclude_matcher(self) -> PathMatcher:
        return PathMatcher(self.exclude + self.extend_exclude, self.root)

    def with_overrides(
        self,
        *,
        select: list[str] | None = None,
        extend_select: list[str] | None = None,
        ignore: list[str] | None = None,
        per_file_ignores: list[tuple[str, tuple[str, ...]]] | None = None,
        extend_per_file_ignores: list[tuple[str, tuple[str, ...]]] | None = None,
        exclude: list[str] | None = None,
        extend_exclude: list[str] | None = None,
        force_exclude: bool | None = None,
        assume_dtype: str | None = None,
        numpy_like: list[str] | None = None,
        fixable: list[str] | None = None,
        unfixable: list[str] | None = None,
    ) -> Settings:
        """Command-line options: a selection layer on top, other settings replaced or
        extended. Their relative patterns start at the current directory."""
        changes: dict[str, Any] = {"_selected": {}}
        if select is not None or extend_select or ignore:
            layer = RuleSelection(
                None if select is None else tuple(select), tuple(extend_select or ()), tuple(ignore or ())
            )
            changes["selections"] = (*self.selections, layer)
        cwd = Path.cwd()
        if per_file_ignores is not None:
            changes["per_file_ignores"] = tuple(
                (os.path.join(cwd, pattern) if "/" in pattern else pattern, codes)
                for pattern, codes in per_file_ignores
            )
        if extend_per_file_ignores:
            changes["per_file_ignores"] = changes.get("per_file_ignores", self.per_file_ignores) + tuple(
                (os.path.join(cwd, pattern) if "/" in pattern else pattern, codes)
                for pattern, codes in extend_per_file_ignores
            )
        if fixable is not None:
            changes["fixable"] = tuple(fixable)
        if unfixable is not None:
            changes["unfixable"] = tuple(unfixable)
        if exclude is not None:
            changes["exclude"] = tuple(_anchored(pattern, cwd) for pattern in exclude)
        if extend_exclude:
            changes["extend_exclude"] = self.extend_exclude + tuple(_anchored(p, cwd) for p in extend_exclude)
        if force_exclude is not None:
            changes["force_exclude"] = force_exclude
        if assume_dtype is not None:
            changes["assume_dtype"] = assume_dtype
        if numpy_like:
            changes["numpy_like"] = self.numpy_like + shims_from_list(numpy_like, "--numpy-like")
        return replace(self, **changes)


def _anchored(pattern: str, folder: Path) -> str:
    return os.path.join(folder, pattern) if "/" in pattern.rstrip("/") else pattern


# -- reading the file

_KEYS = (
    "select", "extend-select", "ignore", "extend-ignore", "per-file-ignores", "extend-per-file-ignores",
    "exclude", "extend-exclude", "respect-gitignore", "force-exclude", "assume-dtype", "cache-dir", "numpy-like",
    "fixable", "unfixable",
)


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml, from ``start`` upward, that has ``[tool.stablelint]``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        try:
            present = candidate.is_file()
        except OSError:
            continue  # a folder that cannot be searched holds no config we could read
        if present and "stablelint" in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def load_settings(
    *, start: Path, config_file: Path | None = None, isolated: bool = False, overrides: dict[str, Any] | None = None
) -> Settings:
    """Settings from ``config_file``, or the nearest pyproject.toml above ``start``;
    ``overrides`` (``--config KEY=VALUE``) replace keys of its ``[tool.stablelint]``."""
    if not isolated and config_file is None:
        config_file = find_config(start)
    elif not isolated and not config_file.is_file():
        raise StablelintError(f"{config_file}: config file not found")
    if isolated or config_file is None:
        if not overrides:
            return Settings(root=Path.cwd())
        return settings_from_table(dict(overrides), None)
    config_file = config_file.resolve()
    table = _read_toml(config_file).get("tool", {}).get("stablelint", {})
    if overrides and isinstance(table, dict):
        table = {**table, **overrides}
    return settings_from_table(table, config_file)


def parse_inline_setting(text: str) -> dict[str, Any]:
    """``--config "KEY = VALUE"``: one TOML key and value of ``[tool.stablelint]``."""
    tomllib = _tomllib()
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StablelintError(
            f"--config {text!r}: neither a config file nor a TOML 'KEY = VALUE' of [tool.stablelint] ({error})"
        ) from None
    if len(parsed) != 1:
        raise StablelintError(f"--config {text!r}: expected one 'KEY = VALUE', got {len(parsed)} keys")
    return parsed


def _read_toml(path: Path) -> dict[str, Any]:
    tomllib = _tomllib()
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise StablelintError(f"{path}: invalid TOML: {error}") from None
    except RecursionError:  # tomllib recurses once per nested array or table
        raise StablelintError(f"{path}: invalid TOML: nested too deeply") from None
    except UnicodeDecodeError as error:
        raise StablelintError(
            f"{path}: not UTF-8 (byte {error.object[error.start]:#04x} at offset {error.start}); TOML files are UTF-8"
        ) from None
    except ValueError as error:  # an integer longer than Python converts
        raise StablelintError(f"{path}: invalid TOML: {number_too_long(error)}") from None
    except OSError as error:
        raise StablelintError(f"{path}: cannot read: {error.strerror or error}") from None


def number_too_long(error: ValueError) -> str:
    """What a parser's ValueError about a huge integer means, in one short phrase."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if "digits" in str(error) and limit:
        return f"a number too long to read (more than {limit} digits)"
    return str(error).split(";")[0]


def settings_from_table(table: Any, config_file: Path | None) -> Settings:
    """``config_file`` None: the values come from the command line alone (``--config``)."""
    where = f"{config_file}: [tool.stablelint]" if config_file else "--config"
    if not isinstance(table, dict):
        raise StablelintError(f"{where} must be a table, not {_describe(table)}")
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key not in _KEYS:
            import difflib  # only for a key to correct

            hint = difflib.get_close_matches(key, _KEYS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else f"; known keys: {', '.join(_KEYS)}"
            raise StablelintError(f"{where} unknown key '{raw_key}'{suggestion}")
        if key in values:
            raise StablelintError(f"{where} '{key}' is given twice (with '-' and with '_')")
        values[key] = _validated(key, value, f"{where} {raw_key}")

    root = config_file.parent if config_file else Path.cwd()
    selection = RuleSelection(
        select=values.get("select"),
        extend_select=values.get("extend-select", ()),
        ignore=values.get("ignore", ()) + values.get("extend-ignore", ()),
    )
    return Settings(
        root=root,
        config_file=config_file,
        selections=(DEFAULT_SELECTION, selection),
        per_file_ignores=values.get("per-file-ignores", ()) + values.get("extend-per-file-ignores", ()),
        exclude=values.get("exclude", DEFAULT_EXCLUDE),
        extend_exclude=values.get("extend-exclude", ()),
        respect_gitignore=values.get("respect-gitignore", True),
        force_exclude=values.get("force-exclude", False),
        assume_dtype=values.get("assume-dtype"),
        cache_dir=(
            os.path.join(root, os.path.expanduser(values["cache-dir"])) if "cache-dir" in values else None
        ),
        numpy_like=values.get("numpy-like", ()),
        fixable=values.get("fixable"),
        unfixable=values.get("unfixable", ()),
    )


def _validated(key: str, value: Any, where: str) -> Any:
    if key in ("respect-gitignore", "force-exclude"):
        if not isinstance(value, bool):
            raise StablelintError(f"{where}: expected true or false, got {_describe(value)}")
        return value
    if key in ("per-file-ignores", "extend-per-file-ignores"):
        if not isinstance(value, dict):
            raise StablelintError(f'{where}: expected a table like {{ "tests/**" = ["STB1"] }}, got {_describe(value)}')
        if "" in value:
            raise StablelintError(f"{where}: an empty pattern (a path glob such as \"tests/**\")")
        return tuple(
            (pattern, codes_from_list(codes, f"{where}.\"{pattern}\"")) for pattern, codes in value.items()
        )
    if key in ("exclude", "extend-exclude"):
        return _strings(value, where, 'a list of glob patterns like ["third_party/**"]')
    if key == "cache-dir":
        if not isinstance(value, str) or not value:
            raise StablelintError(f"{where}: expected a folder's path, got {_describe(value)}")
        return value
    if key == "numpy-like":
        return shims_from_list(_strings(value, where, 'a list of modules like ["mypkg.np"]'), where)
    if key == "assume-dtype":
        if value not in DTYPES:
            raise StablelintError(f"{where}: expected one of {', '.join(DTYPES)}, got {_describe(value)}")
        return value
    return codes_from_list(value, where)


# What a ``numpy-like`` module may re-export: ``mypkg.np`` is NumPy, ``mypkg.jnp=jax.numpy`` JAX's.
SHIM_TARGETS = ("numpy", "scipy.special", "jax.numpy")
_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def shims_from_list(entries, where: str) -> tuple[tuple[str, str], ...]:
    """``["mypkg.np", "mypkg.jnp=jax.numpy"]`` -> (("mypkg.np", "numpy"), ("mypkg.jnp", "jax.numpy"))."""
    shims = []
    for entry in entries:
        module, _, wraps = (part.strip() for part in entry.partition("="))
        wraps = wraps or "numpy"
        if not _MODULE_NAME.fullmatch(module):
            raise StablelintError(f"{where}: '{entry}' is not a module name like mypkg.np")
        if wraps not in SHIM_TARGETS:
            raise StablelintError(f"{where}: '{entry}' re-exports '{wraps}'; expected one of {', '.join(SHIM_TARGETS)}")
        shims.append((module, wraps))
    return tuple(shims)


# The float dtypes ``assume-dtype`` takes (``--assume-dtype``, ``[tool.stablelint]``).
DTYPES = ("float16", "bfloat16", "float32", "float64")


def codes_from_list(value: Any, where: str) -> tuple[str, ...]:
    return tuple(check_code(code, where) for code in _strings(value, where, 'a list of code prefixes like ["STB1"]'))


def _strings(value: Any, where: str, expected: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StablelintError(f"{where}: expected {expected}, got {_describe(value)}")
    return tuple(value)


def check_code(code: str, where: str) -> str:
    code = code.strip()
    if not CODE_PREFIX.fullmatch(code):
        hint = f" (did you mean '{code.upper()}'?)" if CODE_PREFIX.fullmatch(code.upper()) else ""
        raise StablelintError(
            f"{where}: '{code}' is not a stablelint code prefix (STB followed by up to three digits){hint}"
        )
    return code


def _describe(value: Any) -> str:
    kinds = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", dict: "a table", list: "a list"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"


# -- command-line values


def split_codes(text: str, option: str) -> list[str]:
    """``--select STB1,STB2`` (commas and/or spaces, as flake8 accepts)."""
    return [check_code(code, option) for code in re.split(r"[,\s]+", text) if code]


def parse_per_file_ignores(text: str, option: str = "--per-file-ignores") -> list[tuple[str, tuple[str, ...]]]:
    """flake8's format: ``tests/*:STB1,STB2 other.py:STB106``."""
    pairs: list[tuple[str, list[str]]] = []
    for token in re.split(r"[,\s]+", text):
        if not token:
            continue
        if ":" in token:
            pattern, _, code = token.rpartition(":")
            if not pattern:
                raise StablelintError(f"{option}: an empty pattern before ':{code}' (expected PATTERN:CODES)")
            pairs.append((pattern, []))
            token = code
        if not pairs:
            raise StablelintError(f"{option}: expected PATTERN:CODES, e.g. 'tests/*:STB1', got {text!r}")
        if token:
            pairs[-1][1].append(check_code(token, option))
    for pattern, codes in pairs:
        if not codes:
            raise StablelintError(f"{option}: no codes given for {pattern!r}")
    return [(pattern, tuple(codes)) for pattern, codes in pairs]
