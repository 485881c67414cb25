"""Settings → Records retention (owner): periods, legal holds, the batch due for disposal, disposals done."""

import reflex as rx

from components.forms import form_alert
from components.tables import cells_row, foreach_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.retention import RetentionState

WHAT_DISPOSAL_DOES = (
    "Approving removes the patients' identity (name, contact details, notes, allergies, coverage member ids; the "
    "date of birth keeps its year). Prescriptions, fills, bills, claims and the stock ledger keep their rows, so "
    "totals and quantities do not change, and the audit log and financial chains are never edited: the disposal "
    "is added to the audit log. Records under a legal hold are never touched."
)


def period_field(period: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(period["label"], html_for=period["name"], font_weight="500", font_size="0.9em"),
        rx.hstack(
            rx.input(
                id=period["name"],
                name=period["name"],
                type="number",
                default_value=period["years"],
                width="6em",
            ),
            rx.text("years", size="2"),
            align="center",
        ),
        rx.text(period["hint"], size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
    )


def periods_card() -> rx.Component:
    state = RetentionState
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("How long records are kept", size="4"),
                rx.text(state.periods_note, size="2", color_scheme="gray"),
                rx.foreach(state.periods, period_field),
                rx.button("Save the periods", type="submit", id="retention-save"),
                width="100%",
            ),
            on_submit=state.save_periods,
            key=state.form_key,
        ),
        width="100%",
    )


def hold_row(hold: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(hold["scope"]),
        rx.table.cell(hold["reason"]),
        rx.table.cell(hold["placed"]),
        rx.table.cell(hold["status"]),
        rx.table.cell(
            rx.cond(
                hold["active"] != "",
                rx.form(
                    rx.hstack(
                        rx.input(type="hidden", name="hold_id", value=hold["id"]),
                        rx.input(name="release_reason", placeholder="Why it is released", class_name="release-reason"),
                        rx.button("Release", type="submit", size="1", variant="soft", class_name="release-hold"),
                    ),
                    on_submit=RetentionState.release_hold,
                ),
            )
        ),
        class_name="hold-row",
    )


def holds_card() -> rx.Component:
    state = RetentionState
    return rx.card(
        rx.vstack(
            rx.heading("Legal holds", size="4"),
            rx.text(
                "A hold keeps a patient's records, or the whole chain's, out of every disposal until it is released.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="q", placeholder="Patient's name, phone or date of birth", id="hold-search"),
                    rx.button("Find", type="submit", variant="soft", id="hold-find"),
                ),
                on_submit=state.find_patient,
            ),
            rx.foreach(
                state.candidates,
                lambda c: rx.hstack(
                    rx.text(c["name"], " (", c["born"], ")", size="2"),
                    rx.button("Choose", size="1", variant="soft", on_click=state.choose_patient(c["id"])),
                    class_name="hold-candidate",
                ),
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        state.hold_patient_name != "",
                        rx.text("Hold on: ", rx.text.strong(state.hold_patient_name), size="2", id="hold-patient"),
                    ),
                    rx.hstack(
                        rx.checkbox("The whole chain", name="whole_chain", id="hold-chain"),
                        rx.input(
                            name="reason", placeholder="Reason (e.g. subpoena, audit)", id="hold-reason", width="20em"
                        ),
                        rx.button("Place the hold", type="submit", id="hold-place"),
                        wrap="wrap",
                        align="center",
                    ),
                ),
                on_submit=state.place_hold,
                key=state.form_key,
            ),
            foreach_table(("Records", "Reason", "Placed", "Status", ""), state.holds, hold_row, "holds-table"),
            width="100%",
        ),
        width="100%",
    )


def disposal_card() -> rx.Component:
    state = RetentionState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Due for disposal", size="4"),
                rx.spacer(),
                rx.button("Run the review now", variant="soft", on_click=state.run_review, id="retention-review"),
                width="100%",
            ),
            rx.text(
                "The review runs every month and lists the patients whose records are past every period that "
                "applies to them. Nothing is disposed of until you approve.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                state.batch_id == "",
                rx.text("No batch is waiting for approval.", size="2", id="batch-none"),
                rx.vstack(
                    rx.text(state.batch_title, size="2", weight="medium", id="batch-title"),
                    foreach_table(
                        ("Patient", "Due since", "Why"),
                        state.batch_items,
                        lambda i: cells_row(i["name"], i["due_on"], i["basis"], class_name="disposal-item"),
                        "batch-table",
                    ),
                    rx.text(state.batch_more, size="1", color_scheme="gray"),
                    rx.text(WHAT_DISPOSAL_DOES, size="2"),
                    rx.form(
                        rx.vstack(
                            rx.text("You sign: ", rx.text.em(state.signature_meaning), size="2"),
                            rx.hstack(
                                rx.input(
                                    name="password",
                                    type="password",
                                    placeholder="Your password",
                                    id="disposal-password",
                                ),
                                rx.button(
                                    "Approve the disposal", type="submit", color_scheme="red", id="disposal-approve"
                                ),
                                wrap="wrap",
                            ),
                        ),
                        on_submit=state.approve,
                        reset_on_submit=True,
                    ),
                    width="100%",
                ),
            ),
            rx.heading("Disposals done", size="3"),
            foreach_table(
                ("Approved", "Due on", "Listed", "Disposed"),
                state.history,
                lambda b: cells_row(b["approved"], b["as_of"], b["listed"], b["disposed"], class_name="disposal-row"),
                "disposal-history",
            ),
            width="100%",
        ),
        width="100%",
    )


def retention_page() -> rx.Component:
    state = RetentionState
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.link("Settings", href=routes.SETTINGS),
                rx.text("/"),
                rx.heading("Records retention", size="6", id="retention-title"),
                align="center",
            ),
            form_alert(state.error, "retention-error"),
            periods_card(),
            holds_card(),
            disposal_card(),
            width="100%",
            spacing="3",
        )
    )
