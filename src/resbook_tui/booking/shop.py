"""The facade's part for the shop: hold requests of many lines (bundles), API keys and
idempotency keys. ``Booking`` is made of this and the rest (service.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ..config import max_hold_life_minutes
from ..errors import ResbookError
from . import api_keys, bundle_life, bundles, idempotency, resources
from .context import Context
from .context import api as _api
from .idempotency import Outcome, Stored
from .records import ApiKeyInfo, Bundle, NewApiKey, Resource

T = TypeVar("T")


class ShopApi:
    ctx: Context
    # The longest a bundle's holds may live from creation, extensions included.
    max_hold_life: int | None = None

    def _max_life(self) -> int:
        return max_hold_life_minutes() if self.max_hold_life is None else self.max_hold_life

    # ---- bundles --------------------------------------------------------------------------

    @_api
    def create_bundle(
        self,
        lines: Sequence[Mapping[str, Any]],
        email: str,
        *,
        ttl_minutes: int | None = None,
        api_key_id: int | None = None,
    ) -> Bundle:
        """Hold every line (``{"resource_id", "date", "to"?, "quantity"}``) all or none.

        Demand on one (resource, date) is summed over the lines first. Raises
        BookingError: ``insufficient_capacity`` (a CapacityRefused, with ``shortfalls``),
        ``blacked_out``, ``inactive_resource``, ``not_found``, ``invalid_input``.
        """
        return bundles.create_bundle(
            self.ctx,
            lines,
            email,
            ttl_minutes=ttl_minutes,
            max_life=self._max_life(),
            api_key_id=api_key_id,
        )

    @_api
    def get_bundle(self, bundle_id: int) -> Bundle:
        return bundle_life.get_bundle(self.ctx, bundle_id)

    @_api
    def extend_bundle(self, bundle_id: int, minutes: int) -> Bundle:
        """Push every hold's expiry back; ``hold_life_exceeded`` past the longest life."""
        return bundle_life.extend_bundle(self.ctx, bundle_id, minutes, max_life=self._max_life())

    @_api
    def confirm_bundle(
        self, bundle_id: int, order_id: str, line_item_id: str | None = None
    ) -> Bundle:
        """Every hold into an allocation (line item ``hold-<id>`` unless one is given)."""
        return bundle_life.confirm_bundle(
            self.ctx, bundle_id, order_id=order_id, line_item_id=line_item_id
        )

    @_api
    def release_bundle(self, bundle_id: int) -> Bundle:
        """Give every held unit back; a bundle that holds nothing any more is a success."""
        return bundle_life.release_bundle(self.ctx, bundle_id)

    # ---- resources, as the admin API edits them --------------------------------------------

    @_api
    def update_resource(
        self,
        resource_id: int,
        *,
        name: str | None = None,
        resource_type: str | None = None,
        description: str | None = None,
        active: bool | None = None,
    ) -> Resource:
        """Edit and (de)activate, all or nothing."""
        return resources.update_resource(
            self.ctx,
            resource_id,
            name=name,
            resource_type=resource_type,
            description=description,
            active=active,
        )

    # ---- API keys -------------------------------------------------------------------------

    @_api
    def create_api_key(self, name: str, role: str) -> NewApiKey:
        """A new key; its secret (``.key``) is in this answer only."""
        return api_keys.create_api_key(self.ctx, name, role)

    @_api
    def list_api_keys(self) -> list[ApiKeyInfo]:
        return api_keys.list_api_keys(self.ctx)

    @_api
    def revoke_api_key(self, key_id: int) -> ApiKeyInfo:
        return api_keys.revoke_api_key(self.ctx, key_id)

    @_api
    def authenticate(self, key: str) -> ApiKeyInfo | None:
        """The live key this secret is, or None (unknown or revoked)."""
        return api_keys.authenticate(self.ctx, key)

    # ---- idempotency keys -----------------------------------------------------------------

    @_api
    def run_idempotent(
        self,
        *,
        api_key_id: int,
        route: str,
        key: str,
        request_hash: str,
        effect: Callable[[], T],
        answer: Callable[[T], Stored],
        refusal: Callable[[ResbookError], Stored | None],
    ) -> Outcome:
        """Run ``effect`` (Booking calls) at most once per Idempotency-Key of this API key
        and route, its answer stored in its transaction (idempotency.py says how). On
        PostgreSQL the effect may start before a failed claim is known; its database work
        then never commits. A revoked API key: ``Outcome("revoked")``."""
        return idempotency.run(
            self.ctx,
            api_key_id=api_key_id,
            route=route,
            idem_key=key,
            request_hash=request_hash,
            effect=effect,
            answer=answer,
            refusal=refusal,
        )

    @_api
    def remove_old_idempotency_keys(self) -> int:
        return idempotency.remove_old(self.ctx)
