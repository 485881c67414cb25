"""My account: two-factor sign-in, notifications on this device."""

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import sign_out_everywhere_card
from components.push import push_card
from pages.shell import with_shell
from pharmacy_saas.state.account import AccountPageState
from pharmacy_saas.state.auth import AccountState


def code_form(label: str, on_submit, button_id: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.form(
        rx.hstack(
            text_field(
                "Code from the app",
                f"{button_id}-code",
                name="code",
                auto_complete="one-time-code",
                input_mode="numeric",
                required=True,
            ),
            rx.button(label, type="submit", id=button_id),
            align="end",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
    )


def enrolment() -> rx.Component:
    return rx.vstack(
        rx.text("Scan this code with an authenticator app (or type the key), then enter the code it shows."),
        rx.image(src=AccountPageState.qr_code, width="200px", height="200px", alt="QR code", id="mfa-qr"),
        rx.text("Key: ", rx.code(AccountPageState.manual_key, id="mfa-key")),
        code_form("Turn on", AccountPageState.confirm, "mfa-confirm"),
        spacing="3",
    )


def account_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("My account", size="6", id="account-title"),
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Two-factor sign-in", size="4"),
                        rx.cond(
                            AccountPageState.mfa_on,
                            rx.badge("on", color_scheme="grass", id="mfa-status"),
                            rx.badge("off", color_scheme="gray", id="mfa-status"),
                        ),
                        align="center",
                    ),
                    form_alert(AccountPageState.error, "mfa-error"),
                    rx.cond(
                        AccountPageState.recovery_codes.length() > 0,
                        rx.callout(
                            rx.vstack(
                                rx.text(
                                    "Save these recovery codes now; each works once and they will not be shown again:"
                                ),
                                rx.el.pre(
                                    rx.foreach(AccountPageState.recovery_codes, lambda c: rx.text(c)),
                                    id="recovery-codes",
                                ),
                            ),
                            icon="key",
                            color_scheme="amber",
                            width="100%",
                        ),
                    ),
                    rx.cond(
                        AccountPageState.mfa_on,
                        rx.vstack(
                            rx.text(AccountPageState.codes_left, " recovery codes left.", size="2"),
                            code_form("Turn off", AccountPageState.turn_off, "mfa-off"),
                        ),
                        rx.cond(
                            AccountPageState.qr_code != "",
                            enrolment(),
                            rx.button(
                                "Set up two-factor sign-in",
                                on_click=AccountPageState.begin_enrolment,
                                id="mfa-begin",
                            ),
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
            push_card(
                AccountPageState,
                "Notifications on this device",
                "Get notifications from the pharmacy on this browser, even when the app is closed.",
                "Notify me on this device",
            ),
            sign_out_everywhere_card(AccountState.sign_out_everywhere, "account-sign-out-everywhere"),
            spacing="4",
            width="100%",
        )
    )
