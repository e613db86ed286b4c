"""Database URLs: parse them, and never show a secret from one.

Secrets in a URL are the password in ``user:pw@``, any query option whose name says
password or secret (``?password=``, ``?sslpassword=``), and any such setting carried in
``?options=`` (``-c some.password=x``). ``mask_url`` hides all of them; ``scrub`` takes
them out of any other text (a driver's error message, say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit

from .errors import ConfigError
from .text import control_characters

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

MASK = "***"
_SECRET_NAME = re.compile(r"pass|secret", re.IGNORECASE)
# `-c name=value` or `--name=value` inside libpq's options, value up to unescaped space.
_SECRET_SETTING = re.compile(
    r"(?P<name>[\w.\-]*(?:pass|secret)[\w.\-]*\s*=\s*)(?P<value>(?:\\.|[^\s\\])+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL; ``masked`` is safe to print."""

    raw: str
    dialect: str
    path: Path | None = None  # SQLite only
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    name: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def masked(self) -> str:
        return mask_url(self.raw)


def _mask_options(value: str) -> str:
    return _SECRET_SETTING.sub(lambda m: m["name"] + MASK, value)


def _mask_query(query: str) -> str:
    if not query:
        return query
    items = []
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        name = unquote_plus(key)
        if sep and _SECRET_NAME.search(name):
            value = MASK
        elif sep and name == "options":
            decoded = unquote_plus(value)
            masked = _mask_options(decoded)
            if masked != decoded:
                value = quote(masked, safe="*")
        items.append(f"{key}{sep}{value}")
    return "&".join(items)


def mask_url(url: str) -> str:
    """The URL with every password-bearing part replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = f"{userinfo.split(':', 1)[0]}:{MASK}"
            netloc = f"{userinfo}@{host}"
        query = _mask_query(parts.query)
        if netloc == parts.netloc and query == parts.query:
            return url
        slashes = "//" if url[len(parts.scheme) + 1 :].startswith("//") else ""
        shown = f"{parts.scheme}:{slashes}{netloc}{parts.path}"
        shown += f"?{query}" if query else ""
        return shown + (f"#{parts.fragment}" if parts.fragment else "")
    except ValueError:
        return "(a database URL that cannot be shown)"


def url_secrets(url: str) -> list[str]:
    """Every secret value in ``url``, raw and decoded, longest first (for ``scrub``)."""
    found: set[str] = set()
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    if ":" in userinfo:
        raw = userinfo.split(":", 1)[1]
        found |= {raw, unquote(raw)}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_NAME.search(key):
            found.add(value)
        elif key == "options":
            found |= {m["value"] for m in _SECRET_SETTING.finditer(value)}
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        if _SECRET_NAME.search(unquote_plus(key)):
            found.add(value)
    return sorted((s for s in found if s), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with every secret of ``url`` replaced by ``***``."""
    for secret in url_secrets(url):
        text = text.replace(secret, MASK)
    return text


def _decoded_plainly(text: str, part: str, url: str) -> None:
    """A %-escape may decode to a control character (``%00``: a NUL, which would end a
    file name early or fail the driver with a traceback): refused, naming the part."""
    if control_characters(text):
        raise ConfigError(
            f"the {part} in database URL {mask_url(url)} decodes to control characters"
        )


def parse_url(url: str) -> DatabaseUrl:
    """Parse ``sqlite:///path.db`` or ``postgresql://user:pass@host:port/db``."""
    if not isinstance(url, str):
        raise ConfigError(f"a database URL must be text, not {type(url).__name__}")
    bad = control_characters(url)
    if bad:
        raise ConfigError(f"database URL contains control characters ({', '.join(bad)})")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"malformed database URL {mask_url(url)}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc:  # sqlite://user:pw@... would make the password part of the path
            raise ConfigError(
                f"a SQLite URL names a file, not a user or host: {mask_url(url)} "
                "(use sqlite:///path/to/file.db)"
            )
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
        raw_path = unquote(url[len("sqlite://") :])
        if raw_path.startswith("/"):
            raw_path = raw_path[1:]
        raw_path = raw_path.split("?", 1)[0]
        if not raw_path:
            raise ConfigError(
                f"SQLite URL names no file: {mask_url(url)!r} (use sqlite:///path/to/file.db)"
            )
        _decoded_plainly(raw_path, "file name", url)
        return DatabaseUrl(raw=url, dialect=SQLITE, path=Path(raw_path).expanduser())
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"bad port in database URL {mask_url(url)}: {exc}") from None
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError(f"PostgreSQL URL names no database: {mask_url(url)}")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        _decoded_plainly(name, "database name", url)  # unquoted above
        _decoded_plainly(unquote(parts.username or ""), "user", url)
        _decoded_plainly(unquote(parts.password or ""), "password", url)
        for key, value in options.items():
            _decoded_plainly(f"{key}={value}", "option", url)
        return DatabaseUrl(
            raw=url,
            dialect=POSTGRESQL,
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            name=name,
            options=options,
        )
    shown = scheme or "(none)"
    raise ConfigError(
        f"unknown database URL scheme {shown!r} in {mask_url(url)}: "
        "use sqlite:///path.db or postgresql://user:pass@host:port/db"
    )
