"""Settings > Notifications (issue 18 §1): the chain's e-mail, text message and webhook channels (owner)."""

from typing import Any

import reflex as rx

from components.forms import form_alert, labelled, text_field
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.channels import ChannelsState

S = ChannelsState


def _select(field_id: str, name: str, choices: list[tuple[str, str]], value: Any, on_change: Any = None) -> Any:
    props: dict[str, Any] = {"name": name, "id": field_id, "default_value": value}
    if on_change is not None:
        props["on_change"] = on_change
    return rx.el.select(*[rx.el.option(label, value=v) for v, label in choices], **props)


def _outcome(channel: str) -> rx.Component:
    return rx.cond(
        S.tests.contains(channel),  # type: ignore[attr-defined]
        rx.text(
            S.tests[channel],
            color_scheme=rx.cond(S.tested_ok[channel], "green", "red"),
            weight="medium",
            id=f"{channel}-test-outcome",
            role="status",
        ),
    )


def _test_form(channel: str, label: str, placeholder: str) -> rx.Component:
    """'Send test': to an address the owner types (e-mail, SMS), or the webhook itself."""
    to = (
        rx.fragment()
        if channel == "webhook"
        else text_field(label, f"{channel}_test_to", name="to", placeholder=placeholder, width="18em")
    )
    return rx.form(
        rx.hstack(
            rx.el.input(type="hidden", name="channel", value=channel),
            to,
            rx.button("Send test", type="submit", variant="soft", id=f"{channel}-send-test"),
            _outcome(channel),
            align="end",
            wrap="wrap",
        ),
        on_submit=S.send_test,
    )


def email_card() -> rx.Component:
    own = rx.vstack(
        rx.hstack(
            text_field("SMTP server", "smtp_host", default_value=S.smtp_host, placeholder="smtp.example.com"),
            text_field("Port", "smtp_port", default_value=S.smtp_port, width="7em"),
            labelled(
                "Security",
                _select(
                    "smtp_security",
                    "smtp_security",
                    [("ssl", "SSL (port 465)"), ("starttls", "STARTTLS (port 587)"), ("none", "None (internal relay)")],
                    S.smtp_security,
                ),
                "smtp_security",
            ),
            width="100%",
            align="start",
        ),
        rx.hstack(
            text_field("User name", "smtp_username", default_value=S.smtp_username, autocomplete="off"),
            rx.vstack(
                text_field("Password", "smtp_password", type="password", autocomplete="new-password"),
                rx.text(
                    rx.cond(S.smtp_password_set, "Set: leave empty to keep it.", "Not set."),
                    size="1",
                    color_scheme="gray",
                    id="smtp-password-state",
                ),
                spacing="1",
                width="100%",
            ),
            width="100%",
            align="start",
        ),
        rx.hstack(
            text_field("Sender address", "smtp_from_address", default_value=S.smtp_from_address),
            text_field("Sender name", "smtp_from_name", default_value=S.smtp_from_name, placeholder="Corner Pharmacy"),
            width="100%",
        ),
        width="100%",
        spacing="3",
    )
    return rx.card(
        rx.vstack(
            rx.heading("E-mail", size="4"),
            rx.text(
                "Messages to patients and staff are sent by the platform's mail server, or by your own.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    labelled(
                        "Send e-mail through",
                        _select(
                            "email_mode",
                            "email_mode",
                            [("platform", "The platform's mail server"), ("own", "Our own SMTP server")],
                            S.email_mode,
                            lambda v: S.choose_mode("email", v),
                        ),
                        "email_mode",
                    ),
                    rx.cond(S.email_mode == "own", own),
                    form_alert(S.errors["email"], "email-error"),
                    rx.button("Save e-mail settings", type="submit", id="save-email"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.save_email,
                key=S.form_version,
                width="100%",
            ),
            _test_form("email", "Send a test e-mail to", "you@example.com"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="email-card",
    )


def sms_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Text messages (SMS)", size="4"),
            rx.form(
                rx.vstack(
                    labelled(
                        "Send texts through",
                        _select(
                            "sms_mode",
                            "sms_mode",
                            [
                                ("platform", "The platform's SMS gateway"),
                                ("own", "Our own SMS provider"),
                                ("off", "No text messages"),
                            ],
                            S.sms_mode,
                            lambda v: S.choose_mode("sms", v),
                        ),
                        "sms_mode",
                    ),
                    rx.cond(
                        S.sms_mode == "own",
                        text_field(
                            "Provider URL (apprise)",
                            "sms_url",
                            hint="Without recipients, e.g. smseagles://TOKEN@sms.example.com, "
                            "twilio://SID:TOKEN@+15550000000 or vonage://KEY:SECRET@15550000000. "
                            "Kept encrypted; leave empty to keep the one set.",
                            placeholder=rx.cond(S.sms_hint != "", S.sms_hint + " (set)", ""),
                            autocomplete="off",
                        ),
                    ),
                    form_alert(S.errors["sms"], "sms-error"),
                    rx.button("Save SMS settings", type="submit", id="save-sms"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.save_sms,
                key=S.form_version,
                width="100%",
            ),
            _test_form("sms", "Send a test text to", "+15555550100"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="sms-card",
    )


def webhook_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Webhook", size="4"),
            rx.text(
                "Events for your own systems (a test, daily digests, recalls) are POSTed as JSON to your URL, "
                "signed: the header X-Pharmacy-Signature is t=<unix time>,v1=<HMAC-SHA256 of '<t>.<body>' with "
                "your signing secret, in hex>. Redirects are not followed.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    labelled(
                        "Webhook",
                        _select(
                            "webhook_mode",
                            "webhook_mode",
                            [("off", "Off"), ("own", "POST events to our URL")],
                            S.webhook_mode,
                            lambda v: S.choose_mode("webhook", v),
                        ),
                        "webhook_mode",
                    ),
                    rx.cond(
                        S.webhook_mode == "own",
                        text_field(
                            "URL", "webhook_url", default_value=S.webhook_url, placeholder="https://example.com/hook"
                        ),
                    ),
                    form_alert(S.errors["webhook"], "webhook-error"),
                    rx.button("Save webhook", type="submit", id="save-webhook"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.save_webhook,
                key=S.form_version,
                width="100%",
            ),
            rx.cond(
                S.webhook_new_secret != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Your signing secret, shown this once: copy it into your receiving system now."),
                        rx.code(S.webhook_new_secret, id="webhook-new-secret"),
                    ),
                    icon="key-round",
                    color_scheme="amber",
                    width="100%",
                ),
            ),
            rx.cond(
                S.webhook_hint != "",
                rx.hstack(
                    rx.text("Signing secret: ", rx.code(S.webhook_hint), size="2", id="webhook-secret-hint"),
                    rx.button(
                        "Make a new secret", size="1", variant="soft", on_click=S.rotate_secret, id="rotate-webhook"
                    ),
                    align="center",
                ),
            ),
            rx.cond(S.webhook_mode == "own", _test_form("webhook", "", "")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="webhook-card",
    )


def notification_channels_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Settings", href=routes.SETTINGS),
            rx.heading("Notifications", size="6", id="channels-title"),
            rx.cond(S.loaded, rx.el.span(id="channels-loaded", hidden=True)),
            rx.text(
                "How your chain's messages leave: e-mail, text messages and a webhook. Passwords, provider URLs "
                "and secrets are kept encrypted and never shown again. Servers on private or local addresses "
                "are refused.",
                size="2",
                color_scheme="gray",
            ),
            email_card(),
            sms_card(),
            webhook_card(),
            width="100%",
            spacing="4",
        )
    )
