"""Confirm, release and extend the selected hold: shared by the queue, the hold detail
and the day detail, so the keys behave the same wherever a hold is selected."""

from __future__ import annotations

from typing import ClassVar

from ...booking.records import Allocation, Hold
from ..modals import ConfirmModal, Field, FormModal, integer, prompt, required_text
from ..outcome import Expect
from .base import ResbookScreen

EXTEND_DEFAULT_MINUTES = 15


class HoldActions(ResbookScreen):
    HOLD_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"confirm_hold", "release_hold", "extend_hold"}
    )

    def selected_hold_id(self) -> int | None:
        raise NotImplementedError

    def hold_changed(self) -> None:
        """After a successful change: reload what this screen shows."""
        self.request_reload()

    def _hold_or_tell(self) -> int | None:
        hold_id = self.selected_hold_id()
        if hold_id is None:
            self.notify("Select a hold first.", severity="warning")
        return hold_id

    def action_confirm_hold(self) -> None:
        hold_id = self._hold_or_tell()
        if hold_id is None:
            return
        form = FormModal(
            f"Confirm hold #{hold_id}",
            [
                Field("order_id", "Order id", required_text(200), placeholder="order_1001"),
                Field("line_item_id", "Line item id", required_text(200), placeholder="li_1"),
            ],
            submit_label="Confirm",
            note="The held units become an allocation for this order line.",
        )

        self.rb.own_holds.add(hold_id)
        self.submit_form(
            form,
            lambda values: (
                lambda bk: bk.confirm_hold(hold_id, values["order_id"], values["line_item_id"])
            ),
            self._confirmed,
            lambda values: Expect(
                f"Confirm hold #{hold_id}",
                "hold.confirm",
                "hold",
                hold_id,
                details={"order_id": values["order_id"], "line_item_id": values["line_item_id"]},
            ),
        )

    def _confirmed(self, allocation: Allocation) -> None:
        self.notify(
            f"Hold #{allocation.hold_id} confirmed: allocation #{allocation.id} for order "
            f"{allocation.order_id}.",
            title="Confirmed",
            markup=False,
        )
        self.hold_changed()

    def action_release_hold(self) -> None:
        hold_id = self._hold_or_tell()
        if hold_id is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.rb.own_holds.add(hold_id)
                self.change(
                    lambda bk: bk.release_hold(hold_id),
                    self._released,
                    expect=Expect(f"Release hold #{hold_id}", "hold.release", "hold", hold_id),
                )

        self.app.push_screen(
            ConfirmModal(
                f"Release hold #{hold_id}? Its units go back on sale.",
                confirm_label="Release",
                title="Release hold",
            ),
            answered,
        )

    def _released(self, hold: Hold) -> None:
        self.notify(
            f"Hold #{hold.id} released: {hold.quantity} unit(s) back on {hold.date}.",
            title="Released",
            markup=False,
        )
        self.hold_changed()

    def action_extend_hold(self) -> None:
        hold_id = self._hold_or_tell()
        if hold_id is None:
            return

        self.submit_form(
            prompt(
                f"Extend hold #{hold_id}",
                "Minutes",
                integer(1, 7 * 24 * 60),
                value=str(EXTEND_DEFAULT_MINUTES),
            ),
            lambda values: lambda bk: bk.extend_hold(hold_id, values["value"]),
            self._extended,
            lambda values: Expect(
                f"Extend hold #{hold_id} by {values['value']} min",
                "hold.extend",
                "hold",
                hold_id,
                details={"minutes": values["value"]},
            ),
        )

    def _extended(self, hold: Hold) -> None:
        self.notify(
            f"Hold #{hold.id} now expires at {hold.expires_at:%H:%M:%S} UTC.",
            title="Extended",
            markup=False,
        )
        self.hold_changed()
