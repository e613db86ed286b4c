"""uvicorn's HTTP protocol as ``resbook serve`` runs it: each answer leaves in one write,
a request that is not HTTP gets a problem+json 400 like every other error, and a request
head (request line and headers) has a size limit and a time limit.

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
import logging
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .problems import PROBLEM_JSON, Problem, invalid

log = logging.getLogger("resbook.serve")
FLUSH_AT = 64 * 1024
NOT_HTTP = (
    "the request is not valid HTTP/1.1 (a control character in a header, say); nothing was read"
)
# httptools keeps a request line and headers whole, however long, until they end: without
# a limit one endless header fills the server's memory. 64 KiB is four times nginx's
# default (large_client_header_buffers 4 8k) and a shop sends under 1 KiB.
MAX_HEAD_BYTES = 64 * 1024
HEAD_TOO_LARGE = f"the request line and headers may be at most {MAX_HEAD_BYTES} bytes"
# How long a refused connection stays half-open (answered, reading paused) before it is
# closed: closing with the caller's bytes unread would reset the connection, and with
# the reset the caller's system may drop the answer before the caller reads it.
LINGER_S = 1.0
# uvicorn waits for a request head for as long as its connection stays open, so a client
# sending a byte now and then (or nothing) holds a connection, and enough of them every
# file descriptor. nginx's client_header_timeout is 60 s; a shop's head arrives at once.
HEAD_TIMEOUT_S = 30.0


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
    """uvicorn's httptools protocol, writing through JoinedWrites, answering what its
    parser refuses with a problem, and refusing a request head over MAX_HEAD_BYTES or
    slower than HEAD_TIMEOUT_S."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # As uvicorn declares it (narrower than asyncio's BaseTransport, hence the ignore).
        # JoinedWrites is a Transport in all but name (it forwards the rest).
        super().connection_made(cast(asyncio.Transport, JoinedWrites(transport, self.loop)))
        self._in_head = False
        self._head_bytes = 0
        self._refused = False
        # A refusal of a pipelined request behind an answer still being made, sent after.
        self._due: Problem | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head_clock()  # a connection that never sends a request is refused too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_clock()
        super().connection_lost(exc)

    @property
    def _dropping(self) -> bool:
        """Whether what the parser still finds in this read is dropped: once a refusal
        is sent or due, no request after it may start."""
        return self._refused or self._due is not None

    # The parser's callbacks (uvicorn's, called while a read is parsed).

    def on_message_begin(self) -> None:
        if self._dropping:
            return
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self._start_head_clock()

    def on_url(self, url: bytes) -> None:
        if not self._dropping:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._dropping:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._dropping:
            return
        self._in_head = False
        self._stop_head_clock()
        # Measured here too, from what the parser kept: a head that ends in the read that
        # took it past the limit is never counted by data_received, which counts the
        # reads of a head still unfinished.
        if _head_size(self.url, self.headers) > MAX_HEAD_BYTES:
            self._refuse_in_turn(Problem("request_head_too_large", HEAD_TOO_LARGE))
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._dropping:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._dropping:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._due is not None and not self._answering():
            self._unset_keepalive_if_required()  # uvicorn's, armed just now
            self._refuse(self._due)

    def _answering(self) -> bool:
        """Whether an answer is still being made (or one pipelined is still to start)."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def _start_head_clock(self) -> None:
        self._stop_head_clock()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_too_slow)

    def _stop_head_clock(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._answering():
            # A pipelined head behind an answer still being made: an answer now would
            # cut into that one. Its clock runs again.
            self._start_head_clock()
            return
        if not self._dropping and not self.transport.is_closing():
            detail = f"the request line and headers did not arrive within {HEAD_TIMEOUT_S:g} s"
            self._refuse(Problem("request_timeout", detail))

    def _refuse_in_turn(self, problem: Problem) -> None:
        """Refuse the request now, or, behind an answer still being made (which a refusal
        now would cut into), read nothing more and refuse it after that answer."""
        self._in_head = False
        self._stop_head_clock()
        if self._answering():
            self._due = problem
            self.transport.pause_reading()
            return
        self._refuse(problem)

    def data_received(self, data: bytes) -> None:
        if self._dropping:
            return  # answered and closing, or to be: nothing more is read
        super().data_received(data)
        # Counted after the parser has had the bytes: those past the head's end (a body)
        # are the request's, not its head's. So at most one read more than the limit is
        # ever kept.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_in_turn(Problem("request_head_too_large", HEAD_TOO_LARGE))

    def send_400_response(self, msg: str) -> None:
        """What httptools cannot parse (a control character in a header, a malformed
        request line) never reaches the app: uvicorn answers it here, in plain text. The
        same 400 as a problem, so a shop's client reads every error one way."""
        del msg  # uvicorn's own text; the problem says it for the caller
        self._refuse_in_turn(invalid(NOT_HTTP, field="request"))

    def _refuse(self, problem: Problem) -> None:
        """``problem`` before any app saw the request, and the connection closed, as
        uvicorn closes it (where the next request starts is unknown): at once for writing,
        after LINGER_S for reading."""
        # The request log's line (the app never saw this request): no method, no route.
        log.info("- (unparsed) %d - %s", problem.status, problem.code)
        body = problem.body().encode()
        head = [STATUS_LINE[problem.status]]
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
        self._refused = True
        self._due = None
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.transport.pause_reading()
        self.loop.call_later(LINGER_S, self.transport.close)


def _head_size(url: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """A parsed head's size in bytes: its target, its headers with ": " and CRLF, and a
    request line's other parts ("PATCH " and " HTTP/1.1" and CRLF, at most 17)."""
    return len(url) + 17 + sum(len(name) + len(value) + 4 for name, value in headers)
