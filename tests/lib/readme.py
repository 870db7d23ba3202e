"""The README's blocks that tests run verbatim: ``<!-- tested verbatim by ... (NAME) -->``."""

from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(name: str) -> str:
    """The ``sh`` block that follows the README's ``tested verbatim ... (NAME)`` marker."""
    text = README.read_text(encoding="utf-8")
    marker = re.search(rf"<!-- tested verbatim by [^\n]*\({re.escape(name)}\) -->\n", text)
    assert marker, f"README.md has no block marked {name}"
    block = re.compile(r"```sh\n(.*?)```", re.S).match(text, marker.end())
    assert block, f"README.md: the {name} marker is not followed by a ```sh block"
    return block.group(1)


def newcomer_env(bin_dir: Path, **moved: str) -> dict[str, str]:
    """A newcomer's environment: this one without any ``YUJING_`` variable, ``bin_dir``
    (where ``yujing`` is) first on PATH, and ports of its own for the broker, the web
    server and the stubs, so runs on this machine do not meet; ``moved`` adds what else
    is moved away (a data home: ``XDG_DATA_HOME`` or ``YUJING_HOME``)."""
    from streams.dev.broker import find_free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("YUJING_")}
    broker, controller, web, sms, voice = (find_free_port() for _ in range(5))
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "YUJING_BROKER_PORT": str(broker),
            "YUJING_BROKER_CONTROLLER_PORT": str(controller),
            "YUJING_WEB_PORT": str(web),
            "YUJING_SMS_URL": f"http://127.0.0.1:{sms}",
            "YUJING_VOICE_URL": f"http://127.0.0.1:{voice}",
            "PYTHONUNBUFFERED": "1",
            **moved,
        }
    )
    return env
