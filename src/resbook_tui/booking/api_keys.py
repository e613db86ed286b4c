"""API keys for the shop's HTTP API: made, listed, revoked, and checked on every request.

A key is ``rbk_`` and 43 characters of ``secrets.token_urlsafe`` (256 random bits). Only
its SHA-256 is stored (a key that random needs no slow hash: nobody can guess its way to
a preimage), with the first 12 characters kept as a prefix so a list can tell keys apart
without showing one. The secret is returned once, by ``create_api_key``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from ..dialects.compiled import Compiled
from ..models import Action
from ..shop_models import ApiKey
from . import events, validate
from .context import Context
from .errors import invalid, not_found
from .records import ApiKeyInfo, NewApiKey
from .rows import moment

ROLES = ("store", "admin")
KEY_PREFIX = "rbk_"
SHOWN_PREFIX = 12  # characters of a key a list shows: "rbk_" and 8 of the secret
MAX_KEY_LENGTH = 200  # longer than any key we make: refused before hashing

_FIELDS = (ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.prefix, ApiKey.created_at, ApiKey.revoked_at)


def secret_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()


def _info(row: Sequence[Any]) -> ApiKeyInfo:
    revoked = row[5]
    return ApiKeyInfo(
        id=row[0],
        name=row[1],
        role=row[2],
        prefix=row[3],
        created_at=moment(row[4]),
        revoked_at=None if revoked is None else moment(revoked),
    )


def role(value: object) -> str:
    cleaned = value.strip().lower() if isinstance(value, str) else None
    if cleaned not in ROLES:
        raise invalid(f"role must be one of {', '.join(ROLES)}, not {validate.shown(value)}")
    return cleaned


def create_api_key(ctx: Context, name: str, key_role: str) -> NewApiKey:
    name = validate.required_text(name, "name")
    key_role = role(key_role)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with ctx.write():
        insert = ApiKey.insert(
            name=name, role=key_role, prefix=key[:SHOWN_PREFIX], secret_hash=secret_hash(key)
        ).returning(*_FIELDS)
        info = _info(insert.tuples().execute(ctx.db)[0])
        events.record(
            ctx,
            action=Action.API_KEY_CREATE,
            entity="api_key",
            entity_id=info.id,
            details={"name": name, "role": key_role, "prefix": info.prefix},
        )
    return NewApiKey(info=info, key=key)


def _read(ctx: Context, key_id: int) -> Sequence[Any]:
    row = ApiKey.select(*_FIELDS).where(ApiKey.id == key_id).tuples().first(ctx.db)
    if row is None:
        raise not_found("API key", key_id)
    return tuple(row)


def list_api_keys(ctx: Context) -> list[ApiKeyInfo]:
    with ctx.read():
        rows = ApiKey.select(*_FIELDS).order_by(ApiKey.id).tuples().execute(ctx.db)
        return [_info(r) for r in rows]


def revoke_api_key(ctx: Context, key_id: int) -> ApiKeyInfo:
    """Revoke a key (revoking it again changes nothing and says so by ``revoked_at``)."""
    key_id = validate.ident(key_id, "API key")
    with ctx.write():
        changed = (
            ApiKey.update(revoked_at=ctx.dialect.now())
            .where((ApiKey.id == key_id) & ApiKey.revoked_at.is_null())
            .execute(ctx.db)
        )
        info = _info(_read(ctx, key_id))
        if changed:
            events.record(
                ctx,
                action=Action.API_KEY_REVOKE,
                entity="api_key",
                entity_id=key_id,
                details={"name": info.name, "prefix": info.prefix},
            )
    return info


# Rendered once (dialects/compiled.py): every HTTP request runs it.
_LIVE_KEY = Compiled(
    lambda p, d: ApiKey.select(*_FIELDS).where(
        (ApiKey.secret_hash == p("hash")) & ApiKey.revoked_at.is_null()
    )
)


def authenticate(ctx: Context, key: str) -> ApiKeyInfo | None:
    """The live (unrevoked) key this secret is, or None. Read on every call, never kept:
    a revoked key is refused from the next request on."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    with ctx.read():
        row = _LIVE_KEY.run(ctx.db, ctx.dialect, {"hash": secret_hash(key)}).fetchone()
    return None if row is None else _info(row)
