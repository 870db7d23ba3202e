"""Loading configuration files (catalogue, routes) as validated data.

Not part of the event flow: it runs once at start-up. A bad file fails at load
time with the file, the entry and the field, never later on a live event.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

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


def load_yaml(path: Path | str, model: type[M]) -> M:
    """Read ``path`` as YAML and validate it as ``model``, or raise :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = [
            f"{path}: {_where(data, tuple(e['loc']))}: {e['msg']}"
            for e in err.errors(include_url=False)
        ]
        raise ConfigError("\n".join(lines)) from None
