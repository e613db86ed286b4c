"""uvicorn's HTTP protocol as ``resbook serve`` runs it: each answer leaves in one write
(writes.py), a request that is not HTTP gets a problem+json 400 like every other error,
and what a client sends outside a body has a size limit and a time limit.

httptools keeps a request line, a header and a trailer whole, however long, until it
ends, and uvicorn waits for a request for as long as a connection stays open. Without
limits one endless header fills the server's memory, and a client sending a byte now and
then (or nothing, or empty lines between requests) holds a connection for ever.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from .flow import QueueFirst
from .problems import PROBLEM_JSON, REFUSED, Problem, invalid
from .writes import FLUSH_AT, JoinedWrites

__all__ = ["FLUSH_AT", "MAX_HEAD_BYTES", "JoinedWrites", "ServeProtocol"]

log = logging.getLogger("resbook.serve")
NOT_HTTP = (
    "the request is not valid HTTP/1.1 (a control character in a header or a malformed chunk,"
    " say); the rest was not read"
)
# 64 KiB is four times nginx's default (large_client_header_buffers 4 8k) and a shop
# sends under 1 KiB. Trailers (after a chunked body) count against it too.
MAX_HEAD_BYTES = 64 * 1024
HEAD_TOO_LARGE = f"the request line and headers may be at most {MAX_HEAD_BYTES} bytes"
TRAILERS_TOO_LARGE = f"the trailers after a chunked body may be at most {MAX_HEAD_BYTES} bytes"
# How long a refused connection stays half-open (answered, reading paused) before it is
# closed: closing with the caller's bytes unread would reset the connection, and with
# the reset the caller's system may drop the answer before the caller reads it.
LINGER_S = 1.0
# nginx's client_header_timeout is 60 s; a shop's head arrives at once.
HEAD_TIMEOUT_S = 30.0


class _SaidByTheRefusal(logging.Filter):
    """uvicorn's warning for what httptools cannot parse: the refusal's own line in the
    request log says it (one line a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Invalid HTTP request received."


_SAID_BY_THE_REFUSAL = _SaidByTheRefusal()


class ServeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through JoinedWrites, answering what its
    parser refuses with a problem, and refusing a request head (or a chunked body's
    trailers) over MAX_HEAD_BYTES, or a head slower than HEAD_TIMEOUT_S.

    A refusal never cuts into an answer still being made to an earlier request on the
    connection: it waits for that answer, then goes out, and the connection closes."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # As uvicorn declares it (narrower than asyncio's BaseTransport, hence the ignore).
        # JoinedWrites is a Transport in all but name (it forwards the rest).
        super().connection_made(cast(asyncio.Transport, JoinedWrites(transport, self.loop)))
        self.flow = QueueFirst(self.transport, self.pipeline)
        self.logger.addFilter(_SAID_BY_THE_REFUSAL)  # once: the same filter is not added twice
        self._in_message = False  # from a request's first byte to its body's end
        self._in_head = False  # from its first byte to its headers' end
        self._head_bytes = 0
        self._other_bytes = 0  # of a request's reads after its head that brought no body
        self._trailer_bytes = 0  # of its trailers the parser has given
        self._begun_here = 0  # requests begun in the read being parsed
        self._parsed_here = 0  # its bytes given as heads and bodies of requests
        self._body_here = False  # in the read being parsed: body bytes came
        self._running: RequestResponseCycle | None = None  # the request being answered
        # The running request whose body turned out broken: its app is told the client
        # left (it would wait for the rest of the body for ever).
        self._broken: RequestResponseCycle | None = None
        self._refused = False
        self._due: Problem | None = None  # a refusal waiting for the answer before it
        self._head_timer: asyncio.TimerHandle | None = None
        self._rest_timer: asyncio.TimerHandle | None = None  # an answered request's body
        self._start_head_clock()  # a connection that never sends a request is refused too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_clock()
        if self._rest_timer is not None:
            self._rest_timer.cancel()
        super().connection_lost(exc)

    @property
    def _dropping(self) -> bool:
        """Whether what the parser still finds in this read is dropped: once a refusal
        is sent or due, no request after it may start."""
        return self._refused or self._due is not None

    def _answering(self, besides: RequestResponseCycle | None = None) -> bool:
        """Whether an answer is still being made (or one pipelined is still to start),
        ``besides`` that request's own."""
        running = self._running
        return bool(self.pipeline) or (
            running is not None and running is not besides and not running.response_complete
        )

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, self._watched(cycle, app))

    def _watched(self, cycle: RequestResponseCycle, app: ASGI3Application) -> ASGI3Application:
        """``app`` for ``cycle``: if the request's body turns out broken while it runs, an
        app waiting for the body is told the client left, and its answer to that is not
        sent: the refusal goes out when it ends. An app that never read the body answers
        as it would, and the refusal follows that answer."""
        told = False

        async def receive() -> Any:
            nonlocal told
            if cycle is not self._broken:
                message = await cycle.receive()
                if cycle is not self._broken:
                    return message
            told = True
            cycle.scope[REFUSED] = self._due  # type: ignore[literal-required]
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            if not told:
                await cycle.send(message)

        async def run(scope: Any, _receive: Any, _send: Any) -> None:
            try:
                await app(scope, receive, send)
            finally:
                if told:
                    cycle.disconnected = True  # so uvicorn adds no 500 of its own
                    self._after_told(cycle)

        return run

    def _after_told(self, cycle: RequestResponseCycle) -> None:
        """``cycle``'s app, told the client left, has ended."""
        if self._refused:
            return  # the refusal went out already; the connection lingers, then closes
        if cycle.response_started or self._due is None:
            # An answer begun (streamed) cannot take a refusal inside it; and with no
            # refusal due, the server is stopping (shutdown): the connection just closes.
            self.transport.close()
        elif not self._answering(besides=cycle):
            self._refuse(self._due, logged=True)  # in the request's own line

    def shutdown(self) -> None:
        """SIGTERM: the requests in flight finish, except one whose body is still coming,
        which would hold the server's exit until its client sends the rest (or the
        graceful shutdown's time runs out, with a traceback): its app is told the client
        left, and the connection closes."""
        cycle, running = self.cycle, self._running
        body_coming = cycle is not None and self._in_message and not self._in_head
        if body_coming and cycle is running and not cycle.response_complete:
            self._broken = cycle
            cycle.message_event.set()
        elif body_coming:  # waiting its turn: it never starts, and the one before ends it
            for waiting in [w for w in self.pipeline if w[0] is cycle]:
                self.pipeline.remove(waiting)
            if running is not None:
                running.keep_alive = False
        super().shutdown()

    # The parser's callbacks (uvicorn's, called while a read is parsed).

    def on_message_begin(self) -> None:
        if self._dropping:
            return
        super().on_message_begin()
        self._in_message = self._in_head = True
        self._begun_here += 1
        self._head_bytes = self._other_bytes = self._trailer_bytes = 0
        self._start_head_clock()

    def on_url(self, url: bytes) -> None:
        if not self._dropping:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # After the head, a header is a chunked body's trailer: the app has the request's
        # headers already (uvicorn would add trailers to them as it runs), so it is dropped.
        if self._dropping:
            return
        if self._in_head:
            super().on_header(name, value)
        else:
            self._trailer_bytes += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        if self._dropping:
            return
        self._stop_head_clock()
        # What the parser kept, or the reads that came whole inside the head if more
        # (they count whitespace the parser drops). Not the read that ends the head: how
        # much of it is the head is unknown.
        size = _head_size(self.url, self.headers)
        if max(size, self._head_bytes) > MAX_HEAD_BYTES:
            self._refuse_in_turn(Problem("request_head_too_large", HEAD_TOO_LARGE))
            return
        self._parsed_here += size
        # Still in the head while uvicorn reads it: a target httptools passed but cannot
        # parse raises here, and is refused as this head, not as the last request's body.
        super().on_headers_complete()
        self._in_head = False

    def on_body(self, body: bytes) -> None:
        if not self._dropping:
            self._body_here = True
            self._parsed_here += len(body)
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._dropping:
            return
        if self._trailer_bytes > MAX_HEAD_BYTES:  # trailers that ended in one read
            self._refuse_in_turn(Problem("request_head_too_large", TRAILERS_TOO_LARGE))
            return
        self._in_message = False
        if self._rest_timer is not None:
            self._rest_timer.cancel()
            self._rest_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._due is not None and not self._answering():
            self._unset_keepalive_if_required()  # uvicorn's, armed just now
            self._refuse(self._due)
            return
        if self._in_message and not self._in_head and not self.transport.is_closing():
            # Answered before its body came whole (a body too large, say): the rest is
            # read and dropped, for HEAD_TIMEOUT_S at most. Every read of it would stop
            # uvicorn's keep-alive clock again, so a client trickling it held the
            # connection for ever.
            self._rest_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._rest_too_slow)
        elif self._in_head and not self.pipeline:
            # Part of the next head has come: its head clock ends it, not uvicorn's
            # keep-alive clock (which would close it without an answer).
            self._unset_keepalive_if_required()

    def data_received(self, data: bytes) -> None:
        if self._dropping:
            return  # answered and closing, or to be: nothing more is read
        between = not self._in_message
        self._begun_here, self._parsed_here, self._body_here = 0, 0, False
        super().data_received(data)
        if self._dropping or self.transport.is_closing():
            return
        # Counted after the parser has had the bytes, so at most one read more than the
        # limit is ever kept.
        if self._in_head:
            if self._begun_here == 0 or (between and self._begun_here == 1):
                self._head_bytes += len(data)  # the whole read is this head's
            else:
                # The head began after another request in this read: the read less that
                # request's head and body as parsed.
                self._head_bytes = len(data) - self._parsed_here
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_in_turn(Problem("request_head_too_large", HEAD_TOO_LARGE))
        elif self._in_message and not self._begun_here:
            # After the head: a read with no body in it is a chunked body's framing or
            # its trailers, which the parser keeps whole until each ends; and the
            # trailers it has given are counted however they came.
            self._other_bytes = 0 if self._body_here else self._other_bytes + len(data)
            if max(self._other_bytes, self._trailer_bytes) > MAX_HEAD_BYTES:
                self._refuse_in_turn(Problem("request_head_too_large", TRAILERS_TOO_LARGE))
        elif not self._in_message and not self._answering() and self._head_timer is None:
            # Bytes that began no request (empty lines, which HTTP allows before one):
            # uvicorn stopped its keep-alive clock for them, so the head clock runs.
            self._start_head_clock()

    def send_400_response(self, msg: str) -> None:
        """What httptools cannot parse (a control character in a header, a malformed
        request line or chunk) uvicorn answers here, in plain text. The same 400 as a
        problem, so a shop's client reads every error one way."""
        del msg  # uvicorn's own text; the problem says it for the caller
        if not self._dropping:  # a refusal already due stands (a 431, say)
            self._refuse_in_turn(invalid(NOT_HTTP, field="request"))

    # Refusals.

    def _refuse_in_turn(self, problem: Problem) -> None:
        """Refuse now, or, behind an answer still being made to an earlier request (which
        a refusal now would cut into), read nothing more and refuse after that answer.

        A refusal in the body of the request being answered is sent now: that request
        cannot end, and its app waits for the rest of its body until the connection
        closes. One in the body of a request waiting its turn drops that request."""
        in_body = self._in_message and not self._in_head
        self._in_head = self._in_message = False
        self._stop_head_clock()
        if in_body and self.cycle is self._running:
            if not self._answering():
                self._refuse(problem)
                return
            # Still being answered: by an app that may never read its body (a DELETE), or
            # one waiting for the rest, which is woken and told the client left.
            self._due, self._broken = problem, self._running
            self.transport.pause_reading()
            self._running.message_event.set()
            return
        if in_body:  # waiting its turn: it never starts
            for waiting in [w for w in self.pipeline if w[0] is self.cycle]:
                self.pipeline.remove(waiting)
        if self._answering():
            self._due = problem
            self.transport.pause_reading()
            return
        self._refuse(problem)

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

    def _rest_too_slow(self) -> None:
        """The rest of an answered request's body did not come in time: the connection
        closes (the request had its answer)."""
        self._rest_timer = None
        if not self._dropping and not self.transport.is_closing():
            log.info("- (unparsed) - - the rest of an answered request's body: too slow")
            self._refused = True
            self._linger()

    def _start_head_clock(self) -> None:
        self._stop_head_clock()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_too_slow)

    def _stop_head_clock(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, problem: Problem, *, logged: bool = False) -> None:
        """``problem`` as the connection's last answer, and the connection closed, as
        uvicorn closes it (where the next request starts is unknown): at once for writing,
        after LINGER_S for reading. ``logged``: the request's own log line says it."""
        if self._refused:
            return
        self._refused, self._due = True, None
        if self.transport.is_closing():
            return  # closed after the answer before it (Connection: close): nothing to say
        if not logged:  # the request log's line (no app answered this): no method, no route
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
        self._linger()

    def _linger(self) -> None:
        """Close at once for writing, after LINGER_S for reading. (Reading is paused on
        the transport, not through uvicorn's flow control, which may resume it: what
        comes is then dropped, as ``_dropping`` is set.)"""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.transport.pause_reading()
        self.loop.call_later(LINGER_S, self.transport.close)


def _head_size(url: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """A parsed head's size in bytes: its target, its headers with ": " and CRLF, and a
    request line's other parts (19 bytes: "OPTIONS " and " HTTP/1.1" and CRLF; a longer
    method is rarer than the bytes it would add)."""
    return len(url) + 19 + sum(len(name) + len(value) + 4 for name, value in headers)
