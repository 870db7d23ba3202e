"""``YUJING_ENV_FILE``: settings from a file, under the process environment.

Not in the event flow: it is where a process's settings may come from before
:mod:`streams.runtime.settings` reads them. When ``YUJING_ENV_FILE`` names a file,
its variables are read as if set in the environment, and a variable set (not
blank) in the process wins over the file's. ``yujing broker start --secure``
writes such a file per user (broker address, protocol, mechanism, user name,
password, CA file), so the worker and every tool reach a secured broker with
one variable: ``YUJING_ENV_FILE=$YUJING_HOME/secrets/<user>.env yujing worker``.

The format is the common one: ``KEY=VALUE`` lines (an ``export`` in front is
allowed), ``#`` comment lines and blank lines; a value may be in single or double
quotes, which are removed (nothing inside them is expanded or unescaped). A missing
file or a line that is not ``KEY=VALUE`` is one :class:`ConfigError` naming the file
and the line number, never the line itself (it may hold a password).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from streams.core.shared.config import ConfigError

__all__ = ["ENV_FILE", "read_env_file", "with_env_file"]

#: The variable naming the file.
ENV_FILE = "YUJING_ENV_FILE"

_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of an env file, in its order; :class:`ConfigError` if it cannot
    be read or a line is not ``KEY=VALUE``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or err
        raise ConfigError(f"{ENV_FILE}: cannot read {path} ({why})") from None
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        value = match.group(2) if match else ""
        quoted = value[:1] in ("'", '"')
        if match is None or (quoted and (len(value) < 2 or value[-1] != value[0])):
            raise ConfigError(f"{ENV_FILE}: {path}, line {number}: not KEY=VALUE")
        variables[match.group(1)] = value[1:-1] if quoted else value
    return variables


def with_env_file(environ: Mapping[str, str]) -> Mapping[str, str]:
    """``environ`` over the variables of the file its ``YUJING_ENV_FILE`` names, if any.

    A variable blank in ``environ`` counts as unset there, so the file's value holds.
    """
    name = environ.get(ENV_FILE, "").strip()
    if not name:
        return environ
    from_file = read_env_file(Path(name))
    from_file.pop(ENV_FILE, None)  # one file: it names no further one
    return {**from_file, **{k: v for k, v in environ.items() if v.strip()}}
