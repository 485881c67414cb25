"""Audit log for owners and managers."""

import reflex as rx

from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas.state.audit import FILTERS, AuditState


def event_row(event: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(event["when"], white_space="nowrap"),
        rx.table.cell(event["actor"]),
        rx.table.cell(rx.code(event["action"])),
        rx.table.cell(event["entity"]),
        rx.table.cell(rx.text(event["details"], size="1", color_scheme="gray")),
        class_name="audit-row",
    )


def audit_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Audit log", size="6", id="audit-title"),
                rx.spacer(),
                rx.cond(
                    AuditState.chain_intact,
                    rx.badge("Hash chain intact", color_scheme="grass", id="chain-status"),
                    rx.badge("Hash chain broken", color_scheme="red", id="chain-status"),
                ),
                rx.select(
                    list(FILTERS),
                    value=AuditState.kind,
                    on_change=AuditState.filter_by,
                    id="audit-filter",
                    aria_label="Kind of event",
                ),
                width="100%",
                align="center",
            ),
            data_table(("When", "Who", "Action", "On", "Details"), rx.foreach(AuditState.events, event_row)),
            rx.hstack(
                rx.button("Newer", variant="soft", disabled=AuditState.page == 0, on_click=AuditState.turn_page(-1)),
                rx.button("Older", variant="soft", disabled=~AuditState.has_more, on_click=AuditState.turn_page(1)),
            ),
            spacing="4",
            width="100%",
        )
    )
