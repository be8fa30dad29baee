"""Layering of settings sources, and errors that name the key and where it came from.

Sources, lowest to highest::

    defaults < settings/default.toml < settings/<profile>.toml < MLMASTER_* environment < flags

Each layer is read into a plain nested dict, the dicts are merged key by key, and the result
is validated once. When validation fails, every problem is reported as one line naming the
dotted key and the layer that set it, so a user knows which file or variable to fix.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource
from pydantic_settings.exceptions import SettingsError

from mlmaster.settings.model import Settings

ENV_PREFIX = "MLMASTER_"
# Variables with the prefix that choose *how* settings load rather than being settings.
LOADER_VARIABLES = frozenset({"MLMASTER_PROFILE", "MLMASTER_SETTINGS_DIR"})


class SettingsLoadError(Exception):
    """Settings could not be resolved; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Layer:
    """One source of settings: its name for error messages and the values it sets."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)


def settings_dir() -> Path:
    """Where profiles live: ``$MLMASTER_SETTINGS_DIR``, else the checkout's ``settings/``."""
    if explicit := os.environ.get("MLMASTER_SETTINGS_DIR"):
        return Path(explicit)
    # src/mlmaster/settings/load.py -> the repository root is three folders up from src/.
    return Path(__file__).resolve().parents[3] / "settings"


def available_profiles(directory: Path | None = None) -> list[str]:
    directory = directory or settings_dir()
    return sorted(p.stem for p in directory.glob("*.toml")) if directory.is_dir() else []


def load_settings(
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    resumed: Mapping[str, Any] | None = None,
    resumed_from: str = "resumed run",
) -> Settings:
    """Resolve the settings of a run from every source.

    ``profile`` is a profile name (a file in the settings folder) or a path to a TOML file;
    when ``None`` it comes from ``MLMASTER_PROFILE``. ``overrides`` are command-line values
    as a nested dict (highest precedence). ``environ`` defaults to ``os.environ``.
    ``resumed`` holds the settings a resumed run was started with (named ``resumed_from`` in
    errors): they sit above the environment and below the flags given now.
    """
    environ = os.environ if environ is None else environ
    profile = profile or environ.get("MLMASTER_PROFILE") or None
    problems: list[str] = []
    layers: list[Layer] = []

    directory = settings_dir()
    default_file = directory / "default.toml"
    if default_file.is_file():
        layers.append(_read_toml(default_file, problems))
    if profile and profile != "default":
        profile_file = _profile_path(profile, directory, problems)
        if profile_file is not None:
            layers.append(_read_toml(profile_file, problems))
    layers.append(_read_environment(environ, problems))
    if resumed is not None:
        layers.append(Layer(resumed_from, _drop_none(dict(resumed))))
    layers.append(Layer("command line", _drop_none(dict(overrides or {}))))
    if problems:
        raise SettingsLoadError(problems)

    merged: dict[str, Any] = {}
    for layer in layers:
        _deep_merge(merged, layer.values)
    try:
        return Settings(**merged)
    except ValidationError as error:
        raise SettingsLoadError(_describe(error, layers)) from None


def _profile_path(profile: str, directory: Path, problems: list[str]) -> Path | None:
    as_path = Path(profile)
    if as_path.suffix == ".toml" or os.sep in profile:
        if not as_path.is_file():
            problems.append(f"profile file {profile} does not exist")
            return None
        return as_path
    candidate = directory / f"{profile}.toml"
    if not candidate.is_file():
        known = ", ".join(available_profiles(directory)) or "none found"
        problems.append(f"unknown profile {profile!r} (known profiles: {known})")
        return None
    return candidate


def _read_toml(path: Path, problems: list[str]) -> Layer:
    layer = Layer(str(path))
    try:
        with path.open("rb") as handle:
            layer.values = tomllib.load(handle)
    except OSError as error:
        problems.append(f"{path}: cannot be read ({error.strerror or error})")
    except tomllib.TOMLDecodeError as error:
        problems.append(f"{path}: malformed TOML ({error})")
    return layer


def _read_environment(environ: Mapping[str, str], problems: list[str]) -> Layer:
    layer = Layer("environment")
    groups = set(Settings.model_fields)
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in LOADER_VARIABLES:
            continue
        group = upper[len(ENV_PREFIX) :].split("__", 1)[0].lower()
        if group not in groups:
            problems.append(
                f"{name} (environment): unknown setting group {group!r}; "
                f"groups are {', '.join(sorted(groups))}"
            )
    try:
        layer.values = _EnvironmentSource(environ)()
    except (SettingsError, ValueError) as error:
        problems.extend(_unreadable_variables(environ) or [f"environment: {error}"])
    return layer


def _unreadable_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per variable the environment reader rejects, naming it and the fix.

    The reader's own error names only the settings group, not the variable: read each
    ``MLMASTER_*`` variable alone to find which one it was.
    """
    lines = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in LOADER_VARIABLES:
            continue
        try:
            _EnvironmentSource({name: environ[name]})()
        except (SettingsError, ValueError):
            shown = environ[name] if len(environ[name]) <= 40 else environ[name][:40] + "..."
            if "__" in upper[len(ENV_PREFIX) :]:
                fix = "write the value as JSON, e.g. [1, 2] for a list"
            else:
                fix = f"set its keys one by one ({upper}__<KEY>=value), or write a JSON object"
            lines.append(f"{name} (environment): {shown!r} is not readable; {fix}")
    return lines


class _EnvironmentSource(EnvSettingsSource):
    """pydantic-settings' environment reader (``__`` nesting, JSON for lists) over a given
    mapping instead of ``os.environ``, so tests and callers can pass their own."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = {k.lower(): v for k, v in environ.items()}
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._environ


def _deep_merge(into: dict[str, Any], values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    """Flags that were not given arrive as ``None``; they must not mask lower layers."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def _describe(error: ValidationError, layers: list[Layer]) -> list[str]:
    lines = []
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"] if not isinstance(part, int)]
        # Errors of a validator on a tuple/list element end with indexes; drop those.
        key = ".".join(loc)
        source = _source_of(loc, layers)
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown setting"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"{key} ({source}): {message}")
    return lines


def _source_of(loc: list[str], layers: list[Layer]) -> str:
    """The highest layer that sets this key (or its closest parent), else the defaults."""
    for depth in range(len(loc), 0, -1):
        for layer in reversed(layers):
            node: Any = layer.values
            for part in loc[:depth]:
                node = node.get(part) if isinstance(node, Mapping) else None
                if node is None:
                    break
            else:
                if layer.name == "environment":
                    return "environment MLMASTER_" + "__".join(p.upper() for p in loc[:depth])
                return layer.name
    return "defaults"
