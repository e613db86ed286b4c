"""The event archive on disk: gzip JSON lines, one gzip member per batch.

A gzip file may hold several members, read back as one stream (``gzip.open``, ``zcat``),
so a batch is appended as a member of its own, written whole and fsynced before its
events are deleted. A kill can only leave an incomplete last member (bytes written in
order, never a gap), and its events are still in the database: the next run on the same
file cuts it off and writes them again. Anything else that does not read back (not gzip,
a member whose checksum or JSON is wrong) is damage we did not cause, and the file is
refused untouched.

One run at a time per file: an exclusive ``flock`` while it is open (POSIX).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EXIT_REFUSED, ResbookError
from ..text import visible
from .errors import busy, invalid

try:  # POSIX; elsewhere two runs on one file are the operator's to avoid
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

CHUNK = 1 << 20  # bytes read at a time when checking a file
GZIP_LEVEL = 6


class ArchiveFileError(ResbookError):
    """The archive file cannot be written, or holds something that is not an archive we
    wrote; nothing was deleted that is not in the file (exit 1)."""

    exit_code = EXIT_REFUSED
    code = "archive_file"


@dataclass
class FileState:
    """What a file already holds, read back member by member."""

    members: int = 0
    events: int = 0
    good_bytes: int = 0  # where the last complete member ends
    dropped_bytes: int = 0  # an incomplete last member, cut off (a kill mid-write)
    last_batch: list[dict[str, Any]] = field(default_factory=list)


def target(path: str | os.PathLike[str]) -> Path:
    """The file to archive to: its directory must exist; a directory is not a file."""
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise invalid("the archive file must be a path")
    where = Path(path).expanduser()
    shown = visible(str(path))
    if where.is_dir():
        raise invalid(f"{shown} is a directory; name a file in it")
    if not where.parent.is_dir():
        raise invalid(f"directory {visible(str(where.parent))} does not exist (for {shown})")
    return where


@contextlib.contextmanager
def open_archive(path: Path) -> Iterator[ArchiveFile]:
    """The archive at ``path``, created (owner-only: events name customers) or checked
    and, after a kill, repaired; locked while open. A file this run created, locked and
    wrote nothing to is removed again: an empty file is not gzip (``zcat`` fails on it),
    and a daily sweep with nothing old would leave one a day."""
    for _ in range(3):
        created = not path.exists()
        fd = _open(path)
        try:
            locked = _lock(fd, path)
            if os.fstat(fd).st_nlink == 0:
                # Removed by a run that had it locked while we waited to open it: what
                # we wrote there would have no name. Open the path again.
                continue
            archive = ArchiveFile(fd, path)
            archive.recover()
            yield archive
            if created and locked and os.fstat(fd).st_size == 0:
                path.unlink(missing_ok=True)  # locked: every other run waits, then reopens
            return
        finally:
            os.close(fd)
    raise busy(f"other archive runs keep replacing {visible(str(path))}; try again later")


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise _os_error("cannot open", path, exc) from None


def _lock(fd: int, path: Path) -> bool:
    """Whether the file is locked: False on a file system without locks (some network
    mounts), where the run goes on unlocked and no file is ever removed."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise busy(
            f"another archive run is writing {visible(str(path))}; try again later"
        ) from None
    except OSError:
        return False
    return True


class ArchiveFile:
    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path
        self.state = FileState()
        self.bytes_written = 0

    def recover(self) -> None:
        """Read what the file holds; cut off an incomplete last member (fsynced)."""
        try:
            self.state = read_state(self.fd, self.path)
            if self.state.dropped_bytes:
                os.ftruncate(self.fd, self.state.good_bytes)
                os.fsync(self.fd)
            elif self.state.good_bytes == 0:
                _sync_directory(self.path)  # a new file: make its name durable too
        except OSError as exc:
            raise _os_error("cannot read", self.path, exc) from None

    def append(self, lines: list[str]) -> None:
        """One batch as one gzip member, on disk (fsync) before this returns."""
        data = gzip.compress("".join(f"{line}\n" for line in lines).encode(), GZIP_LEVEL)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            os.fsync(self.fd)
        except OSError as exc:
            raise _os_error("cannot write", self.path, exc) from None
        self.bytes_written += len(data)


def read_state(fd: int, path: Path) -> FileState:
    """Walk the members from the start; raise ArchiveFileError at damage a kill cannot
    cause."""
    state = FileState()
    os.lseek(fd, 0, os.SEEK_SET)
    decoder, parts, consumed = zlib.decompressobj(31), list[bytes](), 0
    while chunk := os.read(fd, CHUNK):
        pending = chunk
        while pending:
            try:
                parts.append(decoder.decompress(pending))
            except zlib.error:
                raise _damaged(path, state) from None
            if not decoder.eof:
                consumed += len(pending)
                break
            used = len(pending) - len(decoder.unused_data)
            consumed += used
            state.last_batch = _events(b"".join(parts), path, state)
            state.members += 1
            state.events += len(state.last_batch)
            state.good_bytes = consumed
            pending = decoder.unused_data
            decoder, parts = zlib.decompressobj(31), []
    state.dropped_bytes = consumed - state.good_bytes
    return state


def _events(data: bytes, path: Path, state: FileState) -> list[dict[str, Any]]:
    try:
        events = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    except ValueError:
        raise _damaged(path, state) from None
    if not all(isinstance(e, dict) and isinstance(e.get("id"), int) for e in events):
        raise _damaged(path, state)
    return events


def _damaged(path: Path, state: FileState) -> ArchiveFileError:
    shown = visible(str(path))
    if state.members == 0:
        return ArchiveFileError(
            f"{shown} is not a resbook event archive (gzip JSON lines); name a new file"
        )
    return ArchiveFileError(
        f"{shown} is damaged after byte {state.good_bytes} ({state.members} good batch(es)), "
        "not by an interrupted run; it was left as it is: archive to a new file"
    )


def _os_error(what: str, path: Path, exc: OSError) -> ArchiveFileError:
    reason = exc.strerror or type(exc).__name__
    return ArchiveFileError(
        f"{what} {visible(str(path))}: {reason} (nothing was deleted that is not in the file)"
    )


def _sync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform or file system allows it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
