"""Public sign-up: a chain, its owner and its first branch in one step."""

from zoneinfo import available_timezones

import reflex as rx

from components.forms import form_alert, labelled, text_field
from components.layout import public_frame
from pharmacy_saas import routes
from pharmacy_saas.state.auth import PASSWORD_RULES, SignUpState

CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "INR", "NGN", "KES", "ZAR", "PKR", "BDT", "PHP"]
# The slug is filled from the chain's name in the browser, not by the server: a round trip per keystroke
# raced the typing (the server's answer rewrote a field the person was still typing in, and
# keystrokes were lost). Both fields are plain inputs the form submits; the server checks the slug.
# The rule mirrors tenants.provisioning.suggest_slug: lowercase, runs of anything else become one
# hyphen, no hyphen at either end, at most 40 characters. Once the person types in the slug field it
# is theirs: the name no longer changes it.
FILL_SLUG = """(() => {
  const slug = document.getElementById("slug"), name = document.getElementById("chain_name");
  if (!slug || !name || slug.dataset.edited === "yes") return;
  slug.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")
    .slice(0, 40).replace(/-+$/, "");
})()"""
SLUG_EDITED = 'document.getElementById("slug").dataset.edited = "yes"'
TIME_ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def sign_up_page() -> rx.Component:
    errors = SignUpState.errors
    return public_frame(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Sign up your pharmacy", size="6"),
                        rx.text(
                            "Create your chain, your owner account and your first branch.",
                            color_scheme="gray",
                            size="2",
                        ),
                        rx.heading("Your chain", size="3", padding_top="0.5em"),
                        labelled(
                            "Chain name",
                            rx.input(
                                id="chain_name",
                                name="chain_name",
                                on_change=rx.call_script(FILL_SLUG),
                                required=True,
                                max_length=120,
                                width="100%",
                            ),
                            "chain_name",
                            errors["chain_name"],
                        ),
                        labelled(
                            "URL slug",
                            rx.input(
                                id="slug",
                                name="slug",
                                on_change=rx.call_script(SLUG_EDITED),
                                required=True,
                                max_length=40,
                                auto_capitalize="none",
                                spell_check=False,
                                width="100%",
                            ),
                            "slug",
                            errors["slug"],
                            hint="Your chain's address in links: 3 to 40 lowercase letters, digits and hyphens. "
                            "Filled from the name until you change it.",
                        ),
                        labelled(
                            "Currency",
                            rx.el.select(
                                *[rx.el.option(c, value=c) for c in CURRENCIES],
                                id="currency",
                                name="currency",
                                default_value="USD",
                            ),
                            "currency",
                            errors["currency"],
                        ),
                        rx.heading("You, the owner", size="3", padding_top="0.5em"),
                        text_field("Your name", "owner_name", errors["owner_name"], required=True),
                        text_field(
                            "E-mail",
                            "email",
                            errors["email"],
                            type="email",
                            required=True,
                            auto_complete="username",
                        ),
                        text_field(
                            "Password",
                            "password",
                            errors["password"],
                            type="password",
                            required=True,
                            auto_complete="new-password",
                            hint=PASSWORD_RULES,
                        ),
                        rx.heading("First branch", size="3", padding_top="0.5em"),
                        text_field("Branch name", "branch_name", errors["branch_name"], required=True),
                        text_field("Address", "branch_address", errors["branch_address"]),
                        labelled(
                            "Time zone",
                            rx.el.select(
                                *[rx.el.option(z, value=z) for z in TIME_ZONES],
                                id="time_zone",
                                name="time_zone",
                                default_value="America/New_York",
                            ),
                            "time_zone",
                            errors["time_zone"],
                        ),
                        text_field("Sales tax rate (%)", "tax_rate", errors["tax_rate"], default_value="0"),
                        rx.hstack(
                            rx.checkbox(name="load_demo_data", id="load_demo_data"),
                            rx.el.label(
                                "Load demo data (a sample branch and staff to try things with)",
                                html_for="load_demo_data",
                            ),
                        ),
                        rx.hstack(
                            rx.checkbox(name="prices_include_tax", id="prices_include_tax"),
                            rx.el.label("Shelf prices include tax", html_for="prices_include_tax"),
                        ),
                        form_alert(errors["form"], "sign-up-error"),
                        rx.button(
                            "Create my pharmacy",
                            type="submit",
                            width="100%",
                            loading=SignUpState.busy,
                            id="sign-up-submit",
                        ),
                        rx.text("Already have an account? ", rx.link("Sign in", href=routes.SIGN_IN), size="2"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=SignUpState.submit,
                    reset_on_submit=False,
                ),
                width="100%",
                max_width="520px",
            ),
            padding_y="2em",
        )
    )
