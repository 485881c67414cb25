"""Staff sign-in."""

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import public_frame
from pharmacy_saas import routes
from pharmacy_saas.state.auth import SignInState


def sign_in_page() -> rx.Component:
    return public_frame(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Sign in", size="6"),
                        rx.text("Staff of a pharmacy chain", size="2", color_scheme="gray"),
                        text_field(
                            "E-mail",
                            "email",
                            type="email",
                            placeholder="you@pharmacy.com",
                            auto_complete="username",
                            required=True,
                        ),
                        text_field(
                            "Password",
                            "password",
                            type="password",
                            auto_complete="current-password",
                            required=True,
                        ),
                        form_alert(SignInState.error, "sign-in-error"),
                        rx.button(
                            "Sign in",
                            type="submit",
                            width="100%",
                            loading=SignInState.busy,
                            id="sign-in-submit",
                        ),
                        rx.text(
                            "New here? ",
                            rx.link("Sign up your pharmacy", href=routes.SIGN_UP, id="to-sign-up"),
                            size="2",
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=SignInState.sign_in,
                    reset_on_submit=False,
                ),
                width="100%",
                max_width="400px",
            ),
            padding_top="3em",
        )
    )
