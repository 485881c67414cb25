"""A chain's portal for a verified customer (issue 17 §3, §4): the one-time code, "My prescriptions" and
"Send a new prescription" (phone first)."""

from __future__ import annotations

import reflex as rx

from components.push import push_card
from pages.portal import portal_frame
from pharmacy_saas.state.customer import CustomerState
from pharmacy_saas.state.portal import PortalState

UPLOAD_ID = "portal-photo"
CAPTURE_SCRIPT = (
    f"document.querySelectorAll('#{UPLOAD_ID} input[type=file]')"
    ".forEach(i => { i.setAttribute('capture', 'environment'); i.setAttribute('accept', 'image/*'); })"
)


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(CustomerState.notice, rx.callout(CustomerState.notice, icon="info", id="portal-notice")),
        rx.cond(
            CustomerState.error,
            rx.callout(CustomerState.error, icon="triangle-alert", color_scheme="red", id="portal-error"),
        ),  # fmt: skip
    )


def _field(name: str, label: str, kind: str = "text", **props: object) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=f"portal-{name}", size="2", weight="medium"),
        rx.input(name=name, id=f"portal-{name}", type=kind, size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def _ask_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("We send a code to the e-mail on file for your prescription.", size="2", color_scheme="gray"),
            _field("rx_number", "Rx number (on your label)", autocomplete="off"),
            _field("date_of_birth", "Date of birth", "date"),
            _field("last_name", "Last name", autocomplete="family-name"),
            rx.button("Send me a code", type="submit", size="3", width="100%", id="portal-send-code"),
            spacing="3",
            width="100%",
        ),
        on_submit=CustomerState.ask_code,
        reset_on_submit=False,
        width="100%",
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field(
                "code", "The code from the message", inputmode="numeric", autocomplete="one-time-code", max_length=12
            ),  # fmt: skip
            rx.button("Open my prescriptions", type="submit", size="3", width="100%", id="portal-enter-code"),
            rx.button("Ask for a new code", type="button", variant="ghost", on_click=CustomerState.start_over),
            spacing="3",
            width="100%",
        ),
        on_submit=CustomerState.enter_code,
        reset_on_submit=True,
        width="100%",
    )


def _prescription(rx_row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx_row["medicine"], size="4"),
            rx.text("Rx ", rx_row["rx_number"], " · ", rx_row["status"], size="2", color_scheme="gray"),
            rx.text("Refills left: ", rx_row["refills_left"], size="2"),
            rx.text("Last filled: ", rx_row["last_fill"], size="2"),
            rx.cond(
                rx_row["ready_at"] != "",
                rx.badge(
                    "Ready for pickup at ",
                    rx_row["ready_at"],
                    color_scheme="green",
                    size="2",
                    class_name="portal-ready",
                ),  # fmt: skip
            ),
            rx.cond(
                rx_row["request"] != "",
                rx.text("Your request: ", rx_row["request"], size="2", weight="medium", class_name="portal-request"),
            ),
            rx.cond(
                rx_row["refillable"] == "yes",
                rx.button(
                    "Request refill",
                    size="3",
                    width="100%",
                    class_name="portal-refill-button",
                    on_click=CustomerState.request_refill(rx_row["id"]),
                ),  # fmt: skip
            ),
            # after a pickup, the customer may rate that visit (issue 17 §6)
            rx.cond(
                rx_row["picked_up_fill"] != "",
                rx.link(
                    "Rate your visit",
                    href=PortalState.feedback_href + "?fill=" + rx_row["picked_up_fill"],
                    class_name="portal-rate-visit",
                    size="2",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="portal-prescription",
    )


def _choices() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Reminders and messages", size="4"),
            rx.checkbox(
                "Remind me when a refill is due",
                name="refill_reminders",
                default_checked=CustomerState.refill_reminders,
            ),  # fmt: skip
            rx.radio(
                ["email", "sms"], name="reminder_channel", default_value=CustomerState.reminder_channel, direction="row"
            ),  # fmt: skip
            rx.checkbox(
                "Messages may name my medicine (where the pharmacy allows it)",
                name="detailed_messages",
                default_checked=CustomerState.detailed_messages,
            ),
            rx.button("Save my choices", type="submit", variant="soft", id="portal-save-choices"),
            spacing="2",
            width="100%",
        ),
        on_submit=CustomerState.save_choices,
        reset_on_submit=False,
        width="100%",
    )


def _verified() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Hello ", CustomerState.first_name, size="5"),
            rx.spacer(),
            rx.button("Sign out", variant="outline", on_click=CustomerState.sign_out, id="portal-sign-out"),
            width="100%",
            align="center",
        ),
        _messages(),
        rx.cond(
            CustomerState.prescriptions.length() > 0,  # type: ignore[attr-defined]
            rx.foreach(CustomerState.prescriptions, _prescription),
            rx.text("There are no prescriptions on file for you yet.", id="portal-none"),
        ),
        rx.link("Send a new prescription", href=CustomerState.upload_href, id="portal-to-upload"),
        push_card(
            CustomerState,
            "Notifications",
            "Get a notification on this phone or computer when your prescription is ready. It says where to "
            "collect it, never what it is.",
            "Notify me when my prescription is ready",
        ),
        _choices(),
        spacing="3",
        width="100%",
    )


def portal_prescriptions_page() -> rx.Component:
    return portal_frame(
        rx.cond(
            CustomerState.verified,
            _verified(),
            rx.vstack(
                rx.heading("My prescriptions", size="5"),
                _messages(),
                rx.cond(CustomerState.asked, _code_form(), _ask_form()),
                spacing="3",
                width="100%",
            ),
        )
    )


def _upload_form() -> rx.Component:
    return rx.vstack(
        rx.heading("Send a new prescription", size="5"),
        rx.text(
            "Take a photo of the whole prescription (JPEG, PNG or PDF, at most 10 MB).", size="2", color_scheme="gray"
        ),  # fmt: skip
        rx.text("Pharmacy", size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", id="portal-branch"),
            rx.select.content(rx.foreach(CustomerState.branches, lambda b: rx.select.item(b["name"], value=b["id"]))),
            value=CustomerState.upload_branch,
            on_change=CustomerState.choose_branch,
        ),
        rx.upload.root(
            rx.button("Take or choose a photo", variant="soft", type="button", size="3", width="100%"),
            rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.text(f, size="1", class_name="portal-file")),
            id=UPLOAD_ID,
            accept={"image/*": [], "application/pdf": [".pdf"]},
            max_files=1,
            on_mount=rx.call_script(CAPTURE_SCRIPT),
            width="100%",
        ),
        rx.button(
            "Send",
            size="3",
            width="100%",
            id="portal-send-photo",
            on_click=CustomerState.send_photo(rx.upload_files(upload_id=UPLOAD_ID)),
        ),  # fmt: skip
        _messages(),
        rx.cond(
            CustomerState.received,
            rx.callout(
                "Received. The pharmacy will let you know when it is ready.",
                icon="check",
                color_scheme="green",
                id="portal-received",
            ),  # fmt: skip
        ),
        spacing="3",
        width="100%",
    )


def portal_upload_page() -> rx.Component:
    return portal_frame(
        rx.cond(
            CustomerState.verified,
            _upload_form(),
            rx.vstack(
                rx.text("Please confirm who you are first: open My prescriptions and ask for a code."),
                rx.link("My prescriptions", href=CustomerState.my_prescriptions_href, id="portal-verify-first"),
                spacing="3",
            ),
        )
    )
