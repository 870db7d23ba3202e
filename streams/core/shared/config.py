"""Loading configuration files (catalogue, routes) as validated data.

Not part of the event flow: it runs once at start-up. A bad file fails at load
time with the file, the entry and the field, never later on a live event.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that cannot be used, and why."""


class ConfigModel(BaseModel):
    """Base of configuration models: closed and immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location; list entries are named by their ``id`` or ``name``."""
    out: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
            label = node.get("id") or node.get("name") if isinstance(node, dict) else None
            out.append(f"[{part}]" + (f"({label})" if label else ""))
        else:
            node = node.get(part) if isinstance(node, dict) else None
            out.append(f".{part}" if out else str(part))
    return "".join(out) or "<file>"


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


def load_data(path: Path | str) -> Any:
    """Parse ``path``: JSON for ``*.json``, else YAML (raises :class:`ConfigError`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as err:
            raise ConfigError(f"{path}: not valid JSON: {err}") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None


def load_yaml(path: Path | str, model: type[M]) -> M:
    """Read ``path`` as YAML and validate it as ``model``, or raise :class:`ConfigError`."""
    return validate_data(path, load_data(path), model)


def validate_data(path: Path | str, data: Any, model: type[M]) -> M:
    """Validate parsed ``data`` from ``path`` as ``model``, or raise :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = [
            f"{path}: {_where(data, tuple(e['loc']))}: {e['msg']}"
            for e in err.errors(include_url=False)
        ]
        raise ConfigError("\n".join(lines)) from None
