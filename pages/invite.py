"""Accept a staff invitation."""

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import public_frame
from pharmacy_saas.state.auth import PASSWORD_RULES
from pharmacy_saas.state.invite import InviteState


def invite_page() -> rx.Component:
    return public_frame(
        rx.center(
            rx.card(
                rx.cond(
                    InviteState.acceptable,
                    rx.form(
                        rx.vstack(
                            rx.heading("Join ", InviteState.tenant, size="6", id="invite-title"),
                            rx.text(
                                "You are invited as ",
                                rx.text.strong(InviteState.role),
                                " with ",
                                rx.text.strong(InviteState.email),
                                ".",
                            ),
                            rx.cond(
                                InviteState.has_account,
                                rx.text("You already have an account: confirm with your password.", size="2"),
                                text_field("Your name", "full_name", required=True),
                            ),
                            text_field(
                                "Password",
                                "password",
                                type="password",
                                required=True,
                                auto_complete=rx.cond(InviteState.has_account, "current-password", "new-password"),
                            ),
                            # A new account chooses a password here: its rules are stated before they refuse it.
                            rx.cond(
                                InviteState.has_account,
                                rx.fragment(),
                                rx.text(PASSWORD_RULES, size="1", color_scheme="gray", id="password-rules"),
                            ),
                            form_alert(InviteState.error, "invite-accept-error"),
                            rx.button(
                                "Accept invitation",
                                type="submit",
                                width="100%",
                                loading=InviteState.busy,
                                id="accept-invitation",
                            ),
                            spacing="3",
                            width="100%",
                        ),
                        on_submit=InviteState.accept,
                        reset_on_submit=False,
                    ),
                    rx.vstack(
                        rx.heading("Invitation", size="6"),
                        rx.text(
                            rx.cond(
                                InviteState.status == "invalid",
                                "This invitation link is not valid.",
                                "This invitation is " + InviteState.status + ". Ask for a new one.",
                            ),
                            id="invite-status",
                        ),
                    ),
                ),
                width="100%",
                max_width="440px",
            ),
            padding_top="3em",
        )
    )
