"""uvicorn's HTTP protocol as ``resbook serve`` runs it: each answer leaves in one write,
and a request that is not HTTP gets a problem+json 400 like every other error.

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
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .problems import PROBLEM_JSON, invalid

FLUSH_AT = 64 * 1024
NOT_HTTP = (
    "the request is not valid HTTP/1.1 (a control character in a header, say); nothing was read"
)


class JoinedWrites:
    """A transport whose writes within one turn of the loop go out as one."""

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        # ``Any``: uvloop's transports are not asyncio.Transport subclasses.
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
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


class ServeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through JoinedWrites, and answering what its
    parser refuses with a problem."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # As uvicorn declares it (narrower than asyncio's BaseTransport, hence the ignore).
        # JoinedWrites is a Transport in all but name (it forwards the rest).
        super().connection_made(cast(asyncio.Transport, JoinedWrites(transport, self.loop)))

    def send_400_response(self, msg: str) -> None:
        """What httptools cannot parse (a control character in a header, a malformed
        request line) never reaches the app: uvicorn answers it here, in plain text. The
        same 400 as a problem, so a shop's client reads every error one way. The
        connection closes, as uvicorn's does: where the next request starts is unknown."""
        del msg  # uvicorn's own text; the problem says it for the caller
        body = invalid(NOT_HTTP, field="request").body().encode()
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:  # Date, Server
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"connection: close\r\n\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(head))
        self.transport.close()
