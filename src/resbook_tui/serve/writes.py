"""Each answer of ``resbook serve`` in one write.

uvicorn (0.54, httptools) writes a response's head when the app starts the response and
its body when the app sends it: two ``send`` calls, and with Nagle off two packets, for
an answer of a few hundred bytes. On loopback each send also runs the receiver's TCP
input in the sender's time: with one client and servers alternating, 1,240-1,325 us of
server CPU a request joined against 1,309-1,507 us apart (bench/README.md).

Starlette sends the head and the body in the same turn of the event loop (nothing in
between waits), so joining the writes of one turn and sending them at its end gives one
send an answer without holding anything back: the join is flushed by ``call_soon``, and
before the connection closes or ends its writing. Past ``FLUSH_AT`` bytes a write goes
out at once, so uvicorn's flow control still sees a full socket buffer and pauses a
large or streamed body.
"""

from __future__ import annotations

import asyncio
from typing import Any

FLUSH_AT = 64 * 1024


class JoinedWrites:
    """A transport whose writes within one turn of the loop go out as one."""

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        # ``Any``: uvloop's transports are not asyncio.Transport subclasses.
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0
        self._ended = False  # written to its end (write_eof): what comes later is dropped

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._ended:
            return  # an answer made after the connection's last one (a refusal)
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(self._pending[-1])
        if self._size >= FLUSH_AT:
            self.flush()

    def writelines(self, lines: list[bytes]) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + self._size

    def write_eof(self) -> None:
        self.flush()
        self._ended = True
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # Everything else (is_closing, pause_reading, get_extra_info, ...) is the
        # transport's own.
        return getattr(self._transport, name)
