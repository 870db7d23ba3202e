"""A stand-in for a Faust topic in broker-free unit tests: it records what is sent.

``send`` returns a future per record, as Faust's does; the test decides when the
"broker" acknowledges it (``ack``) or refuses it. Only for unit tests of the
runtime's own logic; anything that needs Kafka's behaviour is an integration test.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sent:
    key: bytes | None
    value: bytes
    partition: int | None
    future: asyncio.Future[object]


@dataclass
class RecordingTopic:
    name: str
    auto_ack: bool = True
    sent: list[Sent] = field(default_factory=list)

    async def send(
        self, *, key: Any = None, value: Any = None, partition: int | None = None, **_: Any
    ) -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self.auto_ack:
            future.set_result(None)
        self.sent.append(Sent(key, value, partition, future))
        return future

    def ack(self) -> None:
        for s in self.sent:
            if not s.future.done():
                s.future.set_result(None)


def recording_topics(auto_ack: bool = True) -> dict[str, Any]:
    """One recording topic per registry topic, by registry name."""
    from schemas.registry import TOPICS

    return {name: RecordingTopic(name, auto_ack) for name in TOPICS}
