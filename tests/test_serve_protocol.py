"""``resbook serve`` sends each answer in one write (serve/protocol.py), and uvicorn's own
protocol would send two (what the join is for)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from resbook_tui.serve import protocol
from resbook_tui.serve.app import RequestLog
from resbook_tui.serve.protocol import FLUSH_AT, MAX_HEAD_BYTES, JoinedWrites, ServeProtocol


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.eof = False
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return 7

    def write_eof(self) -> None:
        self.eof = True

    def abort(self) -> None:
        self.aborted = True

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_writes_of_one_turn_leave_together_at_its_end() -> None:
    async def main() -> list[bytes]:
        recorder = _Recorder()
        joined = JoinedWrites(recorder, asyncio.get_running_loop())
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        joined.write(memoryview(b"body"))
        assert recorder.writes == []  # nothing yet: the turn is not over
        await asyncio.sleep(0)
        joined.write(b"next")  # a later turn is a later write
        await asyncio.sleep(0)
        return recorder.writes

    assert asyncio.run(main()) == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]


def test_close_sends_what_is_pending_first_and_the_rest_is_the_transports() -> None:
    async def main() -> _Recorder:
        recorder = _Recorder()
        joined = JoinedWrites(recorder, asyncio.get_running_loop())
        assert joined.get_extra_info("peername") == "info:peername"
        joined.write(b"last words")
        joined.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return recorder

    recorder = asyncio.run(main())
    assert recorder.writes == [b"last words"]
    assert recorder.closed


def test_nothing_is_written_to_a_transport_already_closing() -> None:
    async def main() -> list[bytes]:
        recorder = _Recorder()
        joined = JoinedWrites(recorder, asyncio.get_running_loop())
        joined.write(b"too late")
        recorder.closed = True  # the peer went away within the turn
        await asyncio.sleep(0)
        return recorder.writes

    assert asyncio.run(main()) == []


def test_a_large_write_goes_out_at_once_so_flow_control_sees_it() -> None:
    async def main() -> list[int]:
        recorder = _Recorder()
        joined = JoinedWrites(recorder, asyncio.get_running_loop())
        joined.write(b"head")
        assert joined.get_write_buffer_size() == 7 + 4  # the socket's and ours
        joined.write(b"x" * FLUSH_AT)
        sizes = [len(w) for w in recorder.writes]  # before the turn ends
        await asyncio.sleep(0)
        return sizes

    assert asyncio.run(main()) == [4 + FLUSH_AT]


def test_writelines_keeps_order_write_eof_flushes_first_abort_drops() -> None:
    async def main() -> tuple[_Recorder, _Recorder]:
        loop = asyncio.get_running_loop()
        ended, aborted = _Recorder(), _Recorder()
        joined = JoinedWrites(ended, loop)
        joined.write(b"a")
        joined.writelines([b"b", b"c"])
        joined.write_eof()
        dropped = JoinedWrites(aborted, loop)
        dropped.write(b"never")
        dropped.abort()
        await asyncio.sleep(0)
        return ended, aborted

    ended, aborted = asyncio.run(main())
    assert ended.writes == [b"abc"] and ended.eof
    assert aborted.writes == [] and aborted.aborted


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await Response(b'{"ok": true}', media_type="application/json")(scope, receive, send)


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """What the server's sockets send, one item a send (asyncio's own event loop)."""
    from asyncio import selector_events

    sent: list[bytes] = []
    original = selector_events._SelectorSocketTransport.write

    def write(self: Any, data: bytes) -> None:
        sent.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", write)
    yield sent


def _server_sends(sends: list[bytes]) -> list[bytes]:
    """The server's sends among all (the test's client writes through asyncio too)."""
    return [s for s in sends if not s.startswith(b"GET ")]


Talk = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bytes]]


def _served(protocol: type[asyncio.Protocol], talk: Talk, app: Any = _app) -> bytes:
    """Serve ``app`` with ``protocol``; what ``talk`` read from one connection to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, loop="asyncio", http=protocol, log_config=None, lifespan="off", timeout_keep_alive=1
    )
    server = uvicorn.Server(config)

    async def main() -> bytes:
        task = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:  # polls the condition; a server that failed raises here
            if task.done():
                task.result()
                raise AssertionError("the server stopped before it started")
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        received = await talk(reader, writer)
        writer.close()
        server.should_exit = True
        await task
        return received

    return asyncio.run(main())


def _two_requests(protocol: type[asyncio.Protocol]) -> bytes:
    """Ask twice on one keep-alive connection."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        received = b""
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            received += head + await reader.readexactly(12)
        return received

    return _served(protocol, talk)


def _answer_to(protocol: type[asyncio.Protocol], request: bytes) -> bytes:
    """Everything sent back to ``request`` until the server closes the connection."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(request)
        return await reader.read()  # to the end: the server closes after a 400

    return _served(protocol, talk)


def test_the_server_protocol_answers_in_one_send_each(sends: list[bytes]) -> None:
    received = _two_requests(ServeProtocol)
    assert received.count(b'{"ok": true}') == 2
    answers = _server_sends(sends)
    assert len(answers) == 2
    assert all(a.startswith(b"HTTP/1.1 200") and a.endswith(b'{"ok": true}') for a in answers)


def test_uvicorns_own_protocol_would_send_head_and_body_apart(sends: list[bytes]) -> None:
    """What the join guards against (if uvicorn joins them itself, the join can go)."""
    _two_requests(HttpToolsProtocol)
    answers = _server_sends(sends)
    assert len(answers) == 4
    assert answers[1] == answers[3] == b'{"ok": true}'


def test_resbook_serve_runs_uvicorn_with_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import resbook_tui.serve as serve
    from resbook_tui.db import open_database
    from resbook_tui.schema.migrations import Migrator

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    Migrator(open_database(url)).up()
    given: dict[str, Any] = {}
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **kw: given.update(kw))
    serve.run(url, host="127.0.0.1", port=0, workers=None, threads=2)
    assert given["http"] is ServeProtocol and given["ws"] == "none"
    assert given["timeout_graceful_shutdown"] == serve.GRACEFUL_SHUTDOWN_S


# httptools refuses a control character in a header value before any app sees it.
NOT_HTTP = b"GET / HTTP/1.1\r\nHost: t\r\nX-Cart: a\x01b\r\n\r\n"


def test_a_request_that_is_not_http_gets_a_problem_and_the_connection_closes() -> None:
    answer = _answer_to(ServeProtocol, NOT_HTTP)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert f"content-length: {len(body)}".encode() in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["code"] == "invalid_input"
    assert problem["errors"] == [{"name": "request", "reason": problem["detail"]}]
    assert "not valid HTTP" in problem["detail"]


def test_uvicorns_own_protocol_answers_it_in_plain_text() -> None:
    """What the override is for (if uvicorn answers a problem itself, it can go)."""
    answer = _answer_to(HttpToolsProtocol, NOT_HTTP)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: text/plain" in answer.lower()


def _problem_of(answer: bytes) -> tuple[bytes, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, json.loads(body)


def test_an_endless_header_gets_a_431_problem_and_the_connection_closes() -> None:
    """httptools would keep the header whole, however long, until it ends."""
    request = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (4 * MAX_HEAD_BYTES)
    head, problem = _problem_of(_answer_to(ServeProtocol, request))  # never finished
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"connection: close" in head.lower()
    assert problem["status"] == 431 and problem["code"] == "request_head_too_large"
    assert str(MAX_HEAD_BYTES) in problem["detail"]


def test_an_endless_request_line_is_refused_the_same_way() -> None:
    head, problem = _problem_of(_answer_to(ServeProtocol, b"GET /" + b"a" * 2 * MAX_HEAD_BYTES))
    assert head.startswith(b"HTTP/1.1 431 ") and problem["code"] == "request_head_too_large"


def test_heads_under_the_limit_pass_and_a_body_is_not_counted_as_head() -> None:
    """Two requests on one connection, each with a head of most of the limit; the first
    with a body several times the limit, sent with its head."""
    big = b"X-Big: " + b"a" * (MAX_HEAD_BYTES - 1024) + b"\r\n"
    body = b"b" * (3 * MAX_HEAD_BYTES)

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        length = f"Content-Length: {len(body)}\r\n".encode()
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\n" + length + big + b"\r\n" + body)
        received = await reader.readuntil(b"\r\n\r\n") + await reader.readexactly(12)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n" + big + b"\r\n")
        return received + await reader.readuntil(b"\r\n\r\n") + await reader.readexactly(12)

    received = _served(ServeProtocol, talk)
    assert received.count(b"HTTP/1.1 200 ") == 2 and received.count(b'{"ok": true}') == 2


@pytest.fixture
def quick_head_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "HEAD_TIMEOUT_S", 0.2)


def test_a_head_that_stalls_gets_a_408_problem_and_the_connection_closes(
    quick_head_clock: None,
) -> None:
    # Read to the end: the server's own clock ends it (a hang here is the failure).
    head, problem = _problem_of(_answer_to(ServeProtocol, b"GET / HTTP/1.1\r\nHost: t\r\n"))
    assert head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
    assert problem["status"] == 408 and problem["code"] == "request_timeout"


def test_a_connection_that_never_asks_is_closed_too(quick_head_clock: None) -> None:
    head, problem = _problem_of(_answer_to(ServeProtocol, b""))
    assert head.startswith(b"HTTP/1.1 408 ") and problem["code"] == "request_timeout"


def test_the_head_clock_stops_with_the_head(quick_head_clock: None) -> None:
    """A request answered, then a keep-alive connection idle past the head clock (0.2 s):
    closed by uvicorn's keep-alive timeout (1 s here), with no 408 after the answer."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        return await reader.read()  # to the end: uvicorn closes the idle connection

    received = _served(ServeProtocol, talk)
    assert received.startswith(b"HTTP/1.1 200 ") and b"408" not in received


async def _slow_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await asyncio.sleep(0.5)  # the app's own slowness, not the test's synchronisation
    await _app(scope, receive, send)


PAST_THE_LIMIT = b" " + b"a" * (MAX_HEAD_BYTES + 1024)


@pytest.mark.parametrize(
    ("header", "refusal"),
    [
        (b"", b"408"),
        (PAST_THE_LIMIT, b"431"),
        (PAST_THE_LIMIT + b"\r\n\r\n", b"431"),
        (b" t\r\nX-Cart: a\x01b\r\n\r\n", b"400"),
        (b" t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
        (PAST_THE_LIMIT + b"\r\n\r\n\x00\r\n\r\n", b"431"),  # not replaced by a 400
    ],
    ids=[
        "short",
        "past-the-limit",
        "past-the-limit-and-ended",
        "not-http",
        "bad-chunk",
        "past-the-limit-then-not-http",
    ],
)
def test_a_pipelined_head_waits_for_the_answer_before_it_is_refused(
    quick_head_clock: None, header: bytes, refusal: bytes
) -> None:
    """The first request's answer takes longer than the head clock (0.2 s) while the
    next head has come (part of one, one past the size limit, or one that is not HTTP):
    the first answer goes out whole, then the refusal, which closes the connection."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost:" + header)
        return await reader.read()  # to the end: the refusal closes it

    received = _served(ServeProtocol, talk, app=_slow_app)
    first, _, rest = received.partition(b'{"ok": true}')
    assert first.startswith(b"HTTP/1.1 200 ") and rest.startswith(b"HTTP/1.1 " + refusal + b" ")
    assert b"connection: close" in rest.lower() and b'{"ok": true}' not in rest


def test_a_head_past_the_limit_that_ends_is_refused_too() -> None:
    """Whole, and ended in the read that took it past the limit (the server reads up to
    256 KiB at once), which counting the reads of an unfinished head misses."""
    request = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big:" + PAST_THE_LIMIT + b"\r\n\r\n"
    head, problem = _problem_of(_answer_to(ServeProtocol, request))
    assert head.startswith(b"HTTP/1.1 431 ") and problem["code"] == "request_head_too_large"


def test_many_headers_together_past_the_limit_are_refused() -> None:
    many = b"".join(b"X-%d: %s\r\n" % (n, b"a" * 100) for n in range(MAX_HEAD_BYTES // 100))
    head, problem = _problem_of(_answer_to(ServeProtocol, b"GET / HTTP/1.1\r\n" + many + b"\r\n"))
    assert head.startswith(b"HTTP/1.1 431 ") and problem["code"] == "request_head_too_large"


async def _reading_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body first (a route with a body does), then answers with the names
    of the request's headers as it has them then."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not message.get("more_body"):
            break
    names = sorted(name.decode() for name, _ in scope["headers"])
    await Response(json.dumps(names), media_type="application/json")(scope, receive, send)


def _answer_within(request: bytes, app: Any = _reading_app, *, then: bytes = b"") -> bytes:
    """Everything sent back to ``request`` (and ``then`` once the first answer is in) until
    the server closes the connection; failing, not hanging, if it never does."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(request)
        if not then:
            return await asyncio.wait_for(reader.read(), 10)
        received = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        writer.write(then)
        return received + await asyncio.wait_for(reader.read(), 10)

    return _served(ServeProtocol, talk, app=app)


CHUNKED = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize("chunk", [b"zz\r\n", b"ffffffffffffffffff\r\n"], ids=["not-hex", "huge"])
def test_a_malformed_chunk_in_a_body_being_read_is_refused_at_once(chunk: bytes) -> None:
    """The request's own app waits for the rest of its body: the 400 cannot wait for its
    answer (which would never come: the connection was held for ever)."""
    head, problem = _problem_of(_answer_within(CHUNKED + chunk))
    assert head.startswith(b"HTTP/1.1 400 ") and problem["code"] == "invalid_input"


def test_a_request_refused_in_its_body_is_logged_once_with_what_was_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its app, told the client left, ends without the answer it would have sent; the
    request's one log line says the 400 that went instead (it had said the app's own
    status, and the refusal and uvicorn each logged a line more)."""
    caplog.set_level(logging.INFO)
    head, _ = _problem_of(_answer_within(CHUNKED + b"zz\r\n", RequestLog(_reading_app)))
    assert head.startswith(b"HTTP/1.1 400 ")
    lines = [r.getMessage() for r in caplog.records if r.name == "resbook.serve"]
    assert len(lines) == 1 and lines[0].startswith("POST ") and " 400 " in lines[0], lines
    # Nor does uvicorn add its own line for it.
    assert not [r for r in caplog.records if "Invalid HTTP request" in r.getMessage()]


def test_trailers_past_the_limit_are_refused_and_short_ones_are_not_headers() -> None:
    endless = b"".join(
        b"X-T%d: %s\r\n" % (n, b"a" * 1000) for n in range(2 * MAX_HEAD_BYTES // 1000)
    )
    head, problem = _problem_of(_answer_within(CHUNKED + b"2\r\n{}\r\n0\r\n" + endless))
    assert head.startswith(b"HTTP/1.1 431 ") and problem["code"] == "request_head_too_large"
    assert "trailers" in problem["detail"]
    # Trailers under the limit: the request is answered, and the app never sees them
    # among the request's headers.
    short = CHUNKED.replace(b"POST", b"POST").replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    answer = _answer_within(short + b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == [
        "connection",
        "host",
        "transfer-encoding",
    ]


def test_empty_lines_on_a_kept_alive_connection_do_not_hold_it(quick_head_clock: None) -> None:
    """HTTP lets empty lines come before a request; they began none, and uvicorn stopped
    its keep-alive clock for them (a client sending one now and then held it for ever)."""
    answer = _answer_within(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", app=_app, then=b"\r\n")
    first, _, rest = answer.partition(b'{"ok": true}')
    assert first.startswith(b"HTTP/1.1 200 ") and rest.startswith(b"HTTP/1.1 408 ")


def test_a_body_before_a_head_in_one_read_is_not_counted_as_that_head() -> None:
    """A request's body fills most of a read that also starts the next request's head:
    only the head's own bytes count against its limit."""
    body = b"b" * (MAX_HEAD_BYTES + 4096)
    first = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    answer = _answer_within(
        first + b"GET / HTTP/1.1\r\nHo", then=b"st: t\r\nConnection: close\r\n\r\n"
    )
    assert answer.count(b"HTTP/1.1 200 ") == 2, answer[:300]


def test_a_broken_body_of_a_request_that_never_reads_it_follows_its_answer() -> None:
    """A DELETE (say) still being answered when its chunked body turns out malformed: it
    answers as it would, then comes the 400 (which had cut into the answer)."""
    answer = _answer_within(CHUNKED + b"zz\r\n", app=_slow_app)
    first, _, rest = answer.partition(b'{"ok": true}')
    assert first.startswith(b"HTTP/1.1 200 ") and rest.startswith(b"HTTP/1.1 400 ")


def test_trailers_past_the_limit_in_the_read_that_ends_them_are_refused() -> None:
    trailers = b"".join(b"X-T%d: %s\r\n" % (n, b"a" * 990) for n in range(100)) + b"\r\n"
    then = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    head, problem = _problem_of(_answer_within(CHUNKED + b"1\r\na\r\n0\r\n" + trailers + then))
    assert head.startswith(b"HTTP/1.1 431 ") and "trailers" in problem["detail"]


def test_what_follows_a_refusal_in_its_read_is_not_refused_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    big = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 10) + b"\r\n\r\n"
    answer = _answer_within(big + b"\x00\r\n\r\n")
    assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 431 ")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_head_begun_behind_an_answer_gets_its_408_not_the_keep_alive_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Part of the next head came with the first request, whose answer took 0.5 s: the
    head clock (2.5 s here) ends the connection with a 408, not uvicorn's keep-alive clock
    (1 s here), which closed it without a word."""
    monkeypatch.setattr(protocol, "HEAD_TIMEOUT_S", 2.5)
    answer = _answer_within(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /hea", app=_slow_app)
    first, _, rest = answer.partition(b'{"ok": true}')
    assert first.startswith(b"HTTP/1.1 200 ") and rest.startswith(b"HTTP/1.1 408 ")


class _Queue(ServeProtocol):
    """Records how many requests ever waited their turn at once."""

    most = 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        _Queue.most = max(_Queue.most, len(self.pipeline))


def test_pipelined_requests_wait_in_a_queue_of_one_read_at_most() -> None:
    """uvicorn read on after each answer and queued what it read: a client sending heads
    without reading its answers grew the server's memory without end (the head limit
    bounds one head, not a queue of them)."""
    _Queue.most = 0
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-F: " + b"a" * 30_000 + b"\r\n\r\n"
    count = 60  # 1.8 MB; a read is at most 256 KiB, about 8 of them

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(head * count)
        received = b""
        while received.count(b'{"ok": true}') < count:
            received += await asyncio.wait_for(reader.read(65536), 10)
        return received

    received = _served(_Queue, talk)
    assert received.count(b"HTTP/1.1 200 ") == count
    assert _Queue.most <= 10, _Queue.most


def test_stopping_does_not_wait_for_a_body_that_never_comes() -> None:
    """SIGTERM (here ``should_exit``) with a request whose body is still coming: its app
    is told the client left and the server stops, instead of waiting until the client
    sends the rest."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(_reading_app, loop="asyncio", http=ServeProtocol, lifespan="off")
    server = uvicorn.Server(config)

    async def main() -> bytes:
        task = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.01)  # polls the server's own flag
        port = listener.getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        while not server.server_state.tasks:
            await asyncio.sleep(0.01)  # until the request's app runs
        server.should_exit = True
        await asyncio.wait_for(task, 10)  # before the fix: until the client gave up
        received = await reader.read()
        writer.close()
        return received

    assert asyncio.run(main()) == b""  # closed, with no answer to a request never sent whole


def test_the_rest_of_an_answered_body_cannot_hold_the_connection(quick_head_clock: None) -> None:
    """Answered before its body came whole, a request's client trickles the rest: the
    connection closes at the head clock (0.2 s here) instead of being held for ever, as
    each read stopped uvicorn's keep-alive clock (1 s here)."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n{")
        received = await asyncio.wait_for(reader.readuntil(b'{"ok": true}'), 10)
        for _ in range(60):  # the client's pace: a byte every 0.05 s, for 3 s at most
            if reader.at_eof():
                break
            writer.write(b" ")
            await asyncio.sleep(0.05)
            with contextlib.suppress(TimeoutError):
                received += await asyncio.wait_for(reader.read(100), 0.01)
        return received + (b"EOF" if reader.at_eof() else b"")

    received = _served(ServeProtocol, talk)
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b"EOF")


def test_a_target_uvicorn_cannot_parse_is_refused_as_its_own_request() -> None:
    """httptools passes ``http://[::1`` and uvicorn's URL parsing then fails: that head
    is refused, after the two answers before it, not taken for a broken body of the
    request before it (which was dropped unanswered)."""
    two = b"GET /one HTTP/1.1\r\nHost: t\r\n\r\nGET /two HTTP/1.1\r\nHost: t\r\n\r\n"
    answer = _answer_within(two + b"GET http://[::1 HTTP/1.1\r\nHost: t\r\n\r\n", app=_slow_app)
    assert answer.count(b'{"ok": true}') == 2
    assert answer.rpartition(b'{"ok": true}')[2].startswith(b"HTTP/1.1 400 ")
