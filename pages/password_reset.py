"""Forgot-password and reset-password pages."""

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import public_frame
from pharmacy_saas import routes
from pharmacy_saas.state.auth import PASSWORD_RULES, PasswordResetState


def forgot_page() -> rx.Component:
    return public_frame(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Reset your password", size="6"),
                        rx.text(
                            "We will e-mail you a link that works once, for an hour.",
                            size="2",
                            color_scheme="gray",
                        ),
                        text_field("E-mail", "email", type="email", required=True, auto_complete="username"),
                        rx.cond(
                            PasswordResetState.message != "",
                            rx.callout(
                                PasswordResetState.message,
                                icon="mail",
                                color_scheme="teal",
                                id="reset-sent",
                                width="100%",
                            ),
                        ),
                        form_alert(PasswordResetState.error, "reset-error"),
                        rx.button(
                            "Send the link",
                            type="submit",
                            width="100%",
                            loading=PasswordResetState.busy,
                            id="send-reset",
                        ),
                        rx.link("Back to sign-in", href=routes.SIGN_IN, size="2"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=PasswordResetState.request_link,
                ),
                width="100%",
                max_width="400px",
            ),
            padding_top="3em",
        )
    )


def reset_page() -> rx.Component:
    return public_frame(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Choose a new password", size="6"),
                        text_field(
                            "New password",
                            "password",
                            type="password",
                            required=True,
                            auto_complete="new-password",
                            hint=PASSWORD_RULES,
                        ),
                        text_field(
                            "The same again",
                            "password_again",
                            type="password",
                            required=True,
                            auto_complete="new-password",
                        ),
                        form_alert(PasswordResetState.error, "reset-error"),
                        rx.button("Change password", type="submit", width="100%", id="reset-submit"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=PasswordResetState.choose_password,
                    reset_on_submit=False,
                ),
                width="100%",
                max_width="400px",
            ),
            padding_top="3em",
        )
    )
