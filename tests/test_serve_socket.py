"""The listener ``resbook serve --workers N`` shares: every connection a worker accepts
on it sends its answer at once (TCP_NODELAY), as one process does."""

from __future__ import annotations

import asyncio
import socket

from resbook_tui.serve import _TcpConfig


def _nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY on the socket asyncio accepts from ``listener`` for a client."""
    found: list[int] = []

    async def main() -> None:
        accepted = asyncio.Event()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            found.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            accepted.set()

        server = await asyncio.start_server(connected, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            await asyncio.wait_for(accepted.wait(), 10)
            writer.close()

    asyncio.run(main())
    return found[0]


def test_workers_listener_is_tcp_so_answers_are_not_held_back() -> None:
    listener = _TcpConfig(
        "resbook_tui.serve:from_environment", host="127.0.0.1", port=0
    ).bind_socket()
    with listener:
        assert listener.proto == socket.IPPROTO_TCP
        assert _nodelay_of_accepted(listener) != 0


def test_a_plain_uvicorn_listener_would_be_held_back() -> None:
    """What the test above guards against: uvicorn's own listener (proto 0) gets no
    TCP_NODELAY from asyncio (if uvicorn fixes this, _TcpConfig can go)."""
    import uvicorn

    listener = uvicorn.Config("x:y", host="127.0.0.1", port=0).bind_socket()
    with listener:
        assert _nodelay_of_accepted(listener) == 0
