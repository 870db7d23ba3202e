"""``yujing schemas``: regenerate the published contracts from the event models.

Outside the flow: writes ``schemas/jsonschema/*.json`` (one JSON Schema per topic)
and ``schemas/asyncapi.yaml`` (the AsyncAPI document of every topic) from the
pydantic models and the topic registry; staleness tests compare them with the
committed files.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_schemas_command(sub: Any) -> None:
    sc = sub.add_parser(
        "schemas",
        help="regenerate schemas/jsonschema/*.json and schemas/asyncapi.yaml from the models",
    )
    sc.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from schemas import asyncapi
    from schemas.export import write

    for path in write():
        print(path)
    print(asyncapi.write())
    return 0
