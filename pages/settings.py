"""Chain settings (owner only): API tokens and sessions."""

from typing import Any

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import sign_out_everywhere_card
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.auth import AccountState
from pharmacy_saas.state.settings import COUNTER_RULES, ID_SCHEDULES, SettingsState


def token_row(token: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(token["name"]),
        rx.table.cell(rx.code(token["prefix"], "…")),
        rx.table.cell(token["scopes"]),
        rx.table.cell(token["last_used"]),
        rx.table.cell(rx.badge(token["status"])),
        rx.table.cell(
            rx.cond(
                token["status"] == "active",
                rx.button(
                    "Revoke",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=SettingsState.revoke(token["id"]),
                ),
            )
        ),
        class_name="token-row",
    )


def _provider_switch(label: str, switch_id: str, checked: Any, on_change: Any) -> rx.Component:
    """A labelled switch for one use of the installation's AI provider (off while none is configured)."""
    return rx.hstack(
        rx.el.label(label, html_for=switch_id),
        rx.spacer(),
        rx.switch(checked=checked, on_change=on_change, disabled=~SettingsState.provider_configured, id=switch_id),
        align="center",
        width="100%",
    )


def assistant_provider_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            _provider_switch(
                "Let the assistant use the AI provider",
                "assistant-provider",
                SettingsState.provider_enabled,
                SettingsState.set_assistant_provider,
            ),
            rx.cond(
                SettingsState.provider_configured,
                rx.text(
                    "When on, staff questions and the data the assistant looks up for them (stock, bills, "
                    "medicines) are sent to the configured provider, ",
                    rx.code(SettingsState.provider_name),
                    ", a third party outside this service. When off, or when the provider is unavailable, the "
                    "built-in assistant answers offline.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.text(
                    "No AI provider is configured for this installation: the built-in assistant answers offline.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            _provider_switch(
                "Let the portal's customer assistant use it too",
                "portal-assistant-provider",
                SettingsState.portal_provider_enabled,
                SettingsState.set_portal_assistant_provider,
            ),
            rx.text(
                "A separate switch: when on, customers' questions on your public portal (and, for a signed-in "
                "customer, their own refill status) go to the same provider. Dosing and personal questions are "
                "always answered by the built-in rules.",
                size="2",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="assistant-provider-card",
    )


def stripe_account_card() -> rx.Component:
    """The chain's own Stripe account (Connect): where its card sales settle."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Card payments (Stripe)", size="4"),
                rx.text(
                    "Card sales at the counter are charged on your chain's own Stripe account and settle there, "
                    "not to this service. Enter its account id (acct_..., in Stripe's dashboard under Settings). "
                    "Cards are presented on Stripe's reader: card details never reach these pages.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.cond(
                    SettingsState.cards_configured,
                    rx.badge("Card payments are configured on this server", color_scheme="green", id="cards-on"),
                    rx.badge(
                        "Card payments are not configured on this server: cash and other tenders only",
                        color_scheme="gray",
                        id="cards-off",
                    ),
                ),
                text_field(
                    "Connected Stripe account",
                    "stripe_account_id",
                    name="stripe_account_id",
                    placeholder="acct_1AbC...",
                    default_value=SettingsState.stripe_account_id,
                    key=SettingsState.stripe_account_id,
                ),
                form_alert(SettingsState.stripe_error, "stripe-error"),
                rx.button("Save Stripe account", type="submit", id="save-stripe-account"),
                spacing="3",
                width="100%",
            ),
            on_submit=SettingsState.save_stripe_account,
        ),
        width="100%",
        id="stripe-account-card",
    )


def pickup_id_field(rules: rx.Var) -> rx.Component:
    """Which schedules' fills need the collector's ID at pickup (US default: all of CII-CV)."""
    return rx.hstack(
        rx.text("ID at pickup for", size="2"),
        *[
            rx.el.label(
                rx.el.input(
                    type="checkbox", name=f"id_{s}", id=f"rx-id-{s}", default_checked=rules[f"id_{s}"] == "yes"
                ),
                f" {s}",
            )
            for s in ID_SCHEDULES
        ],
        align="center",
        wrap="wrap",
        id="rx-pickup-id",
    )


def rx_rules_card() -> rx.Component:
    """The chain's prescription rules: US defaults; where a state is stricter, the owner sets it here."""
    rules = SettingsState.rx_rules
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Prescription rules", size="4"),
                rx.el.label(
                    rx.hstack(
                        rx.el.input(
                            type="checkbox",
                            name="two_person_verification",
                            id="rx-two-person",
                            default_checked=rules["two_person_verification"] == "yes",
                        ),
                        rx.text("Two people: whoever entered a prescription may not verify it", size="2"),
                    )
                ),
                rx.hstack(
                    text_field(
                        "Early refill at (share of days' supply)",
                        "rx-early-refill",
                        name="early_refill_threshold",
                        default_value=rules["early_refill_threshold"],
                    ),
                    text_field(
                        "Expiry (months)", "rx-expiry", name="expiry_months", default_value=rules["expiry_months"]
                    ),
                    text_field(
                        "Controlled expiry (months)",
                        "rx-controlled-expiry",
                        name="controlled_expiry_months",
                        default_value=rules["controlled_expiry_months"],
                    ),
                    text_field(
                        "CIII-IV refills at most",
                        "rx-controlled-refills",
                        name="controlled_max_refills",
                        default_value=rules["controlled_max_refills"],
                    ),
                    text_field(
                        "CII days' supply at most",
                        "rx-cii-days",
                        name="cii_max_days_supply",
                        default_value=rules["cii_max_days_supply"],
                    ),
                    text_field(
                        "Unclaimed after (days)",
                        "rx-unclaimed-days",
                        name="unclaimed_days",
                        default_value=rules["unclaimed_days"],
                    ),
                    text_field(
                        "Emergency supply: days at most",
                        "rx-emergency-days",
                        name="emergency_max_days",
                        default_value=rules["emergency_max_days"],
                    ),
                    width="100%",
                    wrap="wrap",
                ),
                pickup_id_field(rules),
                rx.el.label("Prescription-only medicine at the counter", html_for="rx-counter-rule", font_weight="500"),
                rx.el.select(
                    *[rx.el.option(label, value=value) for value, label in COUNTER_RULES],
                    name="counter_rule",
                    id="rx-counter-rule",
                    default_value=rules["counter_rule"],
                ),
                rx.text(
                    "In the US a pharmacist may not sell a prescription-only medicine without a prescription: it is "
                    "sold only as its checked fill, or as the pharmacist's emergency supply. Choose the other rule "
                    "only where the chain's jurisdiction allows a pharmacist's supply without one. Controlled "
                    "medicines are always sold as a fill.",
                    size="1",
                    color_scheme="gray",
                ),
                form_alert(SettingsState.rx_rules_error, "rx-rules-error"),
                rx.button("Save prescription rules", type="submit", id="save-rx-rules"),
                spacing="3",
                width="100%",
            ),
            on_submit=SettingsState.save_rx_rules,
            key=rules["early_refill_threshold"]
            + rules["two_person_verification"]
            + rules["expiry_months"]
            + rules["unclaimed_days"]
            + rules["id_CII"]
            + rules["id_CIII"]
            + rules["id_CIV"]
            + rules["id_CV"]
            + rules["counter_rule"]
            + rules["emergency_max_days"],
        ),
        width="100%",
        id="rx-rules-card",
    )


def link_card(title: str, summary: str, button: str, button_id: str, href: str) -> rx.Component:
    """A Settings card that leads to a page of its own (branches, patient messages, retention)."""
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.heading(title, size="4"),
                rx.text(summary, size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.link(rx.button(button, id=button_id), href=href),
            align="center",
            width="100%",
        ),
        width="100%",
    )


def branches_card() -> rx.Component:
    return link_card(
        "Branches",
        "Add a branch, change its address, hours, time zone or tax settings, or deactivate it.",
        "Manage branches",
        "manage-branches",
        routes.BRANCHES,
    )


def patient_messages_card() -> rx.Component:
    """Link to Settings > Patient messages: what texts and e-mails to patients may say (issue 16)."""
    return link_card(
        "Patient messages",
        "Messages to patients name no medicine by default. Allow more detail per kind of message.",
        "Patient messages",
        "manage-patient-messages",
        routes.PATIENT_MESSAGES,
    )


def message_templates_card() -> rx.Component:
    """Link to Settings > Message templates: the wording of patient messages and quiet hours (issue 18 §2)."""
    return link_card(
        "Message templates",
        "The wording of texts and e-mails to patients, with a preview, and the chain's quiet hours.",
        "Message templates",
        "manage-message-templates",
        routes.MESSAGE_TEMPLATES,
    )


def retention_card() -> rx.Component:
    """Records retention (issue 16): how long records are kept, legal holds, disposal."""
    return link_card(
        "Records retention",
        "How long records are kept, legal holds, and approving what is due for disposal.",
        "Records retention",
        "manage-retention",
        routes.RETENTION,
    )


def notification_channels_card() -> rx.Component:
    """Notifications (issue 18 §1): the chain's own SMTP server, SMS provider and webhook, with test sends."""
    return link_card(
        "Notifications",
        "Send e-mail through your own mail server, texts through your SMS provider, events to your webhook.",
        "Notification channels",
        "manage-notifications",
        routes.NOTIFICATION_CHANNELS,
    )


def schedules_card() -> rx.Component:
    """Scheduled jobs (issue 18 §4): the daily stock digest and the monthly retention review, next and last run."""
    return link_card(
        "Scheduled jobs",
        "What runs by itself in each branch's local time, when it runs next and how its last run went.",
        "Scheduled jobs",
        "manage-schedules",
        routes.SCHEDULES,
    )


def portal_card() -> rx.Component:
    """The chain's public refill portal (issue 17): the address to print on labels and give to customers."""
    return rx.card(
        rx.vstack(
            rx.heading("Refill portal", size="4"),
            rx.text(
                "Customers request refills, see their prescriptions and send new ones here, without an account.",
                size="2",
                color_scheme="gray",
            ),
            rx.link(SettingsState.portal_url, href=SettingsState.portal_url, is_external=True, id="portal-url"),
            spacing="1",
        ),
        width="100%",
    )


def settings_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Settings", size="6", id="settings-title"),
            branches_card(),
            portal_card(),
            patient_messages_card(),
            message_templates_card(),
            retention_card(),
            notification_channels_card(),
            schedules_card(),
            rx_rules_card(),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("API tokens", size="4"),
                        rx.text(
                            "Tokens let other systems use /api/v1 for this chain. A token is shown once.",
                            size="2",
                            color_scheme="gray",
                        ),
                        text_field("Token name", "token_name", name="name", required=True),
                        rx.hstack(
                            *[
                                rx.hstack(
                                    rx.checkbox(name=f"scope_{s}", id=f"scope_{s}", default_checked=s == "read"),
                                    rx.el.label(s, html_for=f"scope_{s}"),
                                )
                                for s in ("read", "write", "admin")
                            ],
                            spacing="4",
                        ),
                        form_alert(SettingsState.token_error, "token-error"),
                        rx.cond(
                            SettingsState.new_token != "",
                            rx.callout(
                                rx.text(
                                    "Copy it now, it will not be shown again: ",
                                    rx.code(SettingsState.new_token, id="new-token"),
                                ),
                                icon="key",
                                color_scheme="amber",
                                width="100%",
                            ),
                        ),
                        rx.button("Create token", type="submit", id="create-token"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=SettingsState.create,
                    reset_on_submit=True,
                ),
                width="100%",
            ),
            data_table(
                ("Name", "Token", "Scopes", "Last used", "Status", ""), rx.foreach(SettingsState.tokens, token_row)
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Single sign-on (OpenID Connect)", size="4"),
                        rx.text(
                            "Staff sign in with your identity provider; they are matched by verified e-mail.",
                            size="2",
                            color_scheme="gray",
                        ),
                        text_field(
                            "Issuer URL",
                            "sso_issuer",
                            name="issuer",
                            placeholder="https://login.example.com",
                            required=True,
                        ),
                        rx.hstack(
                            text_field("Client id", "sso_client_id", name="client_id", required=True),
                            text_field(
                                "Client secret (kept encrypted; blank keeps the current one)",
                                "sso_client_secret",
                                name="client_secret",
                                type="password",
                            ),
                            width="100%",
                        ),
                        text_field("Button label", "sso_label", name="label", default_value="Company SSO"),
                        rx.hstack(
                            rx.checkbox(name="allow_first_sign_in", id="sso_allow"),
                            rx.el.label("Let verified e-mails that are not members yet join as", html_for="sso_allow"),
                            rx.select(
                                ["cashier", "technician", "pharmacist", "manager"],
                                name="default_role",
                                default_value="cashier",
                                size="1",
                            ),
                            align="center",
                        ),
                        form_alert(SettingsState.sso_error, "sso-error"),
                        rx.button("Save single sign-on", type="submit", id="save-sso"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=SettingsState.save_sso,
                ),
                width="100%",
            ),
            rx.card(
                rx.hstack(
                    rx.text("Require two-factor sign-in for every member of the chain"),
                    rx.spacer(),
                    rx.switch(
                        checked=SettingsState.require_mfa,
                        on_change=SettingsState.set_require_mfa,
                        id="require-mfa",
                    ),
                    align="center",
                ),
                width="100%",
            ),
            assistant_provider_card(),
            stripe_account_card(),
            sign_out_everywhere_card(AccountState.sign_out_everywhere, "sign-out-everywhere"),
            spacing="4",
            width="100%",
        )
    )
