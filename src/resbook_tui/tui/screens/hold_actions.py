"""Confirm, release and extend the selected hold, and cancel the selected allocation:
shared by the queue, the hold detail and the day detail, so the keys behave the same
wherever a hold or an allocation is selected.

An action is offered (in the footer, and bound) only where it applies: hold actions on an
ACTIVE hold, cancelling on an allocation. A key pressed where its action does not apply
says why in one line instead of doing nothing.
"""

from __future__ import annotations

from typing import ClassVar

from ...booking.events import Action
from ...booking.records import Allocation, Hold
from ..format import day_text, time_text
from ..modals import ConfirmModal, Field, FormModal, prompt
from ..outcome import Expect
from ..parsers import integer, required_text
from .base import ResbookScreen

EXTEND_DEFAULT_MINUTES = 15
ACTIVE = "ACTIVE"


class HoldActions(ResbookScreen):
    HOLD_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"confirm_hold", "release_hold", "extend_hold"}
    )
    ALLOCATION_ACTIONS: ClassVar[frozenset[str]] = frozenset({"cancel_allocation"})

    def selected_hold(self) -> Hold | None:
        """The hold the hold keys act on (with the status shown on screen), if any."""
        return None

    def selected_allocation(self) -> Allocation | None:
        """The allocation ``x`` cancels, if one is selected in a focused table."""
        return None

    def hold_changed(self) -> None:
        """After a successful change: reload what this screen shows."""
        self.request_reload()

    def allocation_customer(self, allocation: Allocation) -> str | None:
        """The customer whose hold became ``allocation``, when this screen knows it."""
        return None

    def _past_expiry(self, hold: Hold) -> bool:
        return hold.expires_at <= self.rb.clock()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.HOLD_ACTIONS:
            hold = self.selected_hold()
            if hold is None or hold.status != ACTIVE:
                return False
            # Past its expiry (the sweep has not run yet) it can only be released.
            if action != "release_hold" and self._past_expiry(hold):
                return False
        if action in self.ALLOCATION_ACTIONS and self.selected_allocation() is None:
            return False
        return super().check_action(action, parameters)

    def unavailable_reason(self, action: str) -> str | None:
        if action in self.HOLD_ACTIONS and not self.rb.read_only:
            hold = self.selected_hold()
            if hold is None:
                return "Select a hold first."
            if hold.status == "CONFIRMED":
                return (
                    f"Hold #{hold.id} is CONFIRMED: to cancel its booking, press x on its "
                    "allocation (day detail or the customer's holds)."
                )
            if hold.status != ACTIVE:
                return f"Hold #{hold.id} is {hold.status}: only ACTIVE holds can change."
            if action != "release_hold" and self._past_expiry(hold):
                return (
                    f"Hold #{hold.id} expired at {hold.expires_at:%H:%M:%S} UTC: it can only "
                    "be released (or left to the sweep)."
                )
        return super().unavailable_reason(action)

    def resource_name(self, resource_id: int) -> str:
        return self.rb.resource_names.get(resource_id, f"#{resource_id}")

    def hold_subject(self, hold: Hold) -> list[tuple[str, str]]:
        return [
            ("Hold", f"#{hold.id}"),
            ("Customer", hold.customer_email),
            ("Resource", self.resource_name(hold.resource_id)),
            ("Date", day_text(hold.date)),
            ("Quantity", str(hold.quantity)),
        ]

    # ---- confirm ---------------------------------------------------------------------------

    def action_confirm_hold(self) -> None:
        hold = self.selected_hold()
        if hold is None:
            return
        hold_id = hold.id
        form = FormModal(
            f"Confirm hold #{hold_id}",
            [
                Field("order_id", "Order id", required_text(200), placeholder="e.g. order_1001"),
                Field("line_item_id", "Line item id", required_text(200), placeholder="e.g. li_1"),
            ],
            submit_label="Confirm",
            note=(
                f"Hold: {hold.quantity} × {self.resource_name(hold.resource_id)} on "
                f"{day_text(hold.date)} for {hold.customer_email}. Confirming makes it a "
                "booking (an allocation) for this order line."
            ),
        )
        self.rb.own_holds.add(hold_id)
        self.submit_form(
            form,
            call=lambda bk, values: bk.confirm_hold(
                hold_id, values["order_id"], values["line_item_id"]
            ),
            done=self._confirmed,
            expect=lambda values: Expect(
                f"Confirm hold #{hold_id}",
                Action.HOLD_CONFIRM,
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

    # ---- release ---------------------------------------------------------------------------

    def action_release_hold(self) -> None:
        hold = self.selected_hold()
        if hold is None:
            return
        hold_id = hold.id

        def answered(yes: bool | None) -> None:
            if yes:
                self.rb.own_holds.add(hold_id)
                self.change(
                    lambda bk: bk.release_hold(hold_id),
                    self._released,
                    expect=Expect(f"Release hold #{hold_id}", Action.HOLD_RELEASE, "hold", hold_id),
                )

        self.app.push_screen(
            ConfirmModal(
                "Release this hold? Its units go back on sale.",
                subject=self.hold_subject(hold),
                confirm_label="Release",
                title=f"Release hold #{hold_id}",
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

    # ---- extend ----------------------------------------------------------------------------

    def action_extend_hold(self) -> None:
        hold = self.selected_hold()
        if hold is None:
            return
        hold_id = hold.id
        form = prompt(
            f"Extend hold #{hold_id}",
            "Minutes to add",
            integer(1, 7 * 24 * 60),
            value=str(EXTEND_DEFAULT_MINUTES),
            submit_label="Extend",
        )
        form.note = (
            f"{hold.quantity} × {self.resource_name(hold.resource_id)} on "
            f"{day_text(hold.date)} for {hold.customer_email}. It expires at "
            f"{hold.expires_at:%H:%M:%S} UTC; the minutes are added to that."
        )
        self.submit_form(
            form,
            call=lambda bk, values: bk.extend_hold(hold_id, values["value"]),
            done=self._extended,
            expect=lambda values: Expect(
                f"Extend hold #{hold_id} by {values['value']} min",
                Action.HOLD_EXTEND,
                "hold",
                hold_id,
                details={"minutes": values["value"]},
            ),
        )

    def _extended(self, hold: Hold) -> None:
        self.notify(
            f"Hold #{hold.id} now expires at {time_text(hold.expires_at)} UTC.",
            title="Extended",
            markup=False,
        )
        self.hold_changed()

    # ---- cancel an allocation --------------------------------------------------------------

    def action_cancel_allocation(self) -> None:
        allocation = self.selected_allocation()
        if allocation is None:
            return
        allocation_id = allocation.id

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(
                    lambda bk: bk.cancel_allocation(allocation_id),
                    self._cancelled,
                    expect=Expect(
                        f"Cancel allocation #{allocation_id}",
                        Action.ALLOCATION_CANCEL,
                        "allocation",
                        allocation_id,
                    ),
                )

        customer = self.allocation_customer(allocation)
        subject = [
            ("Allocation", f"#{allocation_id}"),
            *((("Customer", customer),) if customer else ()),
            ("Order", f"{allocation.order_id} / {allocation.line_item_id}"),
            ("Resource", self.resource_name(allocation.resource_id)),
            ("Date", day_text(allocation.date)),
            ("Quantity", str(allocation.quantity)),
        ]
        self.app.push_screen(
            ConfirmModal(
                "Cancel this confirmed booking? Its units go back on sale.",
                subject=subject,
                confirm_label="Cancel booking",
                keep_label="Keep booking",
                title=f"Cancel allocation #{allocation_id}",
            ),
            answered,
        )

    def _cancelled(self, allocation: Allocation) -> None:
        self.notify(
            f"Allocation #{allocation.id} cancelled: {allocation.quantity} unit(s) back on "
            f"{allocation.date}.",
            title="Cancelled",
            markup=False,
        )
        self.hold_changed()
