"""http_bench.py's shop with wrk (``--client wrk``): the same requests as http_clients.py's
threads, sent by wrk, a load generator written in C, from its own process.

On a 2-core machine the clients share the cores with the server and PostgreSQL, and the
Python clients took 0.3-0.4 ms of CPU a request (about a tenth of the machine's work a
request), which a shop's clients, on other machines, do not take from the server. wrk's
one thread, with 8 keep-alive connections, takes a few hundredths of that.

wrk runs a Lua script (http_wrk.lua) that builds each request from a file of cells, and
stops after one answer a cell: up to ``clients - 1`` requests still in flight at that
moment are dropped unanswered, their holds made but not counted (their server CPU is, by
at most 7 in 1,500). Its latencies are per request, from its first byte sent to the last
received, as the Python clients measure theirs.
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import signal
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from http_clients import Measured, connections

SCRIPT = Path(__file__).with_name("http_wrk.lua")


def available() -> bool:
    return shutil.which("wrk") is not None


def wrk_round(url: str, key: str, work: list[tuple[int, date]], clients: int, tag: str) -> Measured:
    """One round: ``clients`` connections of one wrk thread, one request a cell of ``work``."""
    if not available():
        raise SystemExit("--client wrk needs wrk on the PATH (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".cells") as cells:
        cells.writelines(f"{rid} {day.isoformat()}\n" for rid, day in work)
        cells.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = subprocess.Popen(
            # -d is only a ceiling: the script stops wrk once every cell is answered.
            ["wrk", "-t1", f"-c{clients}", "-d600s", "-s", str(SCRIPT), url, "--"]
            + [key, tag, cells.name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        split = _split_while(process, url, clients)
        assert process.stderr is not None
        said = []  # what wrk wrote before, kept for its error
        for line in process.stderr:  # until the script says every cell is answered
            if line.strip() == "done":
                process.send_signal(signal.SIGINT)  # wrk's main thread ends its sleep
                break
            said.append(line)
        out, rest = process.communicate(timeout=600)
        err = "".join(said) + rest
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"wrk failed ({process.returncode}): {err.strip()[:300]}")
    return _measured(out, work, clients_cpu(before, after), split)


def _split_while(process: subprocess.Popen[str], url: str, clients: int) -> list[int]:
    """The connections per server process once wrk has opened all of them (polled: wrk
    says nothing until it ends)."""
    port = int(url.rsplit(":", 1)[1])
    seen: list[int] = []
    while process.poll() is None:
        seen = connections(port)
        if sum(seen) >= clients:
            return seen
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.002)
    return seen


def clients_cpu(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
    """CPU ms of the children reaped in between: wrk (the server is reaped at the end)."""
    spent = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return spent * 1000


def _measured(out: str, work: list[tuple[int, date]], cpu_ms: float, split: list[int]) -> Measured:
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result: {out.strip()[:300]}")
    found = json.loads(line.removeprefix("RESULT "))
    if found["failed"] or found["socket_errors"]:
        raise SystemExit(
            f"{found['failed']} request(s) failed and {found['socket_errors']} socket "
            f"error(s), first: {found['first']}"
        )
    if found["requests"] < len(work):
        raise SystemExit(f"wrk stopped after {found['requests']} of {len(work)} requests")
    return Measured(
        requests=found["requests"],
        wall=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        mean_ms=found["mean_us"] / 1000,
        clients_ms=cpu_ms / found["requests"],
        split=split,
    )
