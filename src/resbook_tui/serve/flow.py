"""How ``resbook serve`` paces reading a connection (serve/protocol.py uses it)."""

from __future__ import annotations

import asyncio
from collections.abc import Sized

from uvicorn.protocols.http.flow_control import FlowControl


class QueueFirst(FlowControl):
    """uvicorn's flow control, reading nothing more while requests wait their turn.

    uvicorn resumes reading after each answer and whenever an app asks for its body, and
    each read may queue more pipelined requests: a client that never reads its answers
    grew the queue, and the server's memory, without end. Waiting is safe: a request
    queued behind another has all of that one's body before it, and the last one queued,
    which may still lack some of its own, is no longer queued once it runs."""

    def __init__(self, transport: asyncio.Transport, pipeline: Sized) -> None:
        super().__init__(transport)
        self._pipeline = pipeline

    def resume_reading(self) -> None:
        if not self._pipeline:
            super().resume_reading()
