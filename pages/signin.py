"""Staff sign-in: password, then a second factor when the account has one."""

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import public_frame
from pharmacy_saas import routes
from pharmacy_saas.state.auth import SignInState


def password_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sign in", size="6"),
            rx.text("Staff of a pharmacy chain", size="2", color_scheme="gray"),
            rx.cond(
                SignInState.notice != "",
                rx.callout(SignInState.notice, icon="info", color_scheme="teal", id="sign-in-notice", width="100%"),
            ),
            text_field(
                "E-mail",
                "email",
                type="email",
                placeholder="you@pharmacy.com",
                auto_complete="username",
                required=True,
            ),
            text_field("Password", "password", type="password", auto_complete="current-password", required=True),
            form_alert(SignInState.error, "sign-in-error"),
            rx.button("Sign in", type="submit", width="100%", loading=SignInState.busy, id="sign-in-submit"),
            rx.hstack(
                rx.link("Forgot your password?", href=routes.FORGOT, size="2", id="to-forgot"),
                rx.spacer(),
                rx.link("Sign up your pharmacy", href=routes.SIGN_UP, size="2", id="to-sign-up"),
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=SignInState.sign_in,
        reset_on_submit=False,
    )


def sso_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.divider(),
            rx.text("Your chain uses single sign-on?", size="2", color_scheme="gray"),
            rx.hstack(
                rx.input(name="chain", id="sso-chain", placeholder="chain URL slug", width="100%"),
                rx.button("Continue", type="submit", variant="soft", id="sso-continue"),
                width="100%",
            ),
            width="100%",
        ),
        on_submit=SignInState.sso,
    )


def code_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Two-factor sign-in", size="6"),
            rx.text(
                "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
                size="2",
                color_scheme="gray",
            ),
            text_field(
                "Code",
                "code",
                auto_complete="one-time-code",
                input_mode="numeric",
                required=True,
                auto_focus=True,
            ),
            form_alert(SignInState.error, "sign-in-error"),
            rx.button("Verify", type="submit", width="100%", id="code-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=SignInState.submit_code,
        reset_on_submit=True,
    )


def sign_in_page() -> rx.Component:
    return public_frame(
        rx.center(
            rx.card(
                rx.cond(SignInState.needs_code, code_step(), rx.vstack(password_step(), sso_form(), width="100%")),
                width="100%",
                max_width="400px",
            ),
            padding_top="3em",
        )
    )
