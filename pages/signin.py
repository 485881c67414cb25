"""Staff sign-in."""

import reflex as rx

from components.layout import public_frame
from pharmacy_saas.state.auth import SignInState


def sign_in_page() -> rx.Component:
    return public_frame(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Sign in", size="6"),
                        rx.text("Staff of a pharmacy chain", size="2", color_scheme="gray"),
                        rx.el.label("E-mail", html_for="email"),
                        rx.input(
                            id="email",
                            name="email",
                            type="email",
                            placeholder="you@pharmacy.com",
                            auto_complete="username",
                            required=True,
                            width="100%",
                        ),
                        rx.el.label("Password", html_for="password"),
                        rx.input(
                            id="password",
                            name="password",
                            type="password",
                            auto_complete="current-password",
                            required=True,
                            width="100%",
                        ),
                        rx.cond(
                            SignInState.error != "",
                            rx.callout(
                                SignInState.error,
                                icon="triangle-alert",
                                color_scheme="red",
                                id="sign-in-error",
                                width="100%",
                            ),
                        ),
                        rx.button(
                            "Sign in",
                            type="submit",
                            width="100%",
                            loading=SignInState.busy,
                            id="sign-in-submit",
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
