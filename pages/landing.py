"""The signed-out landing page (what the product does, and an invitation to sign a chain up) and the
page staff of a suspended chain land on."""

import reflex as rx

from components.layout import public_frame
from pharmacy_saas import routes
from pharmacy_saas.state.suspended import SuspendedState


def feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=26, color=rx.color("teal", 10)),
            rx.heading(title, size="3"),
            rx.text(text, size="2", color_scheme="gray"),
            spacing="2",
        ),
    )


def step(number: str, title: str, text: str) -> rx.Component:
    return rx.hstack(
        rx.badge(number, size="3", radius="full", color_scheme="teal"),
        rx.vstack(rx.text(title, weight="bold"), rx.text(text, size="2", color_scheme="gray"), spacing="1"),
        align="start",
        spacing="3",
    )


def sign_up_button(button_id: str) -> rx.Component:
    return rx.link(
        rx.button("Sign up your pharmacy", rx.icon("arrow-right", size=18), size="4", id=button_id),
        href=routes.SIGN_UP,
    )


def landing_page() -> rx.Component:
    return public_frame(
        rx.vstack(
            rx.heading("Run every branch of your pharmacy from one screen", size="8", id="landing-title"),
            rx.text(
                "Pharmacy Cloud is the back office and the counter of a pharmacy chain: stock by batch and "
                "expiry, a fast point of sale with tax and refunds, patients and insurance claims, daily "
                "reports per branch, and an assistant that answers from your own data.",
                size="4",
                color_scheme="gray",
            ),
            rx.hstack(
                sign_up_button("landing-sign-up"),
                rx.link(rx.button("Sign in", size="4", variant="outline", id="landing-sign-in"), href=routes.SIGN_IN),
                spacing="3",
                wrap="wrap",
            ),
            rx.text(
                "Sign-up takes two minutes: your chain, your owner account and your first branch. "
                "Tick “load demo data” to try it with sample stock and staff.",
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                feature(
                    "package", "Inventory", "Batches, expiry alerts, reorder points and a ledger that never oversells."
                ),
                feature(
                    "shopping-cart", "Point of sale", "Keyboard-fast billing with tax, split payments and refunds."
                ),
                feature("contact", "Patients and claims", "Records with allergies, coverage, and claims to insurers."),
                feature(
                    "chart-column", "Reports", "Each branch's sales by its own local day, margins and CSV exports."
                ),
                feature("message-circle", "Assistant", "Ask about stock, sales and interactions in plain words."),
                feature("shield-check", "Isolated by design", "Each chain's data is walled off in the database."),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4",
                width="100%",
                padding_top="2em",
            ),
            rx.heading("How it starts", size="5", padding_top="1.5em"),
            rx.grid(
                step("1", "Sign up", "Name your chain, pick its currency and open your first branch."),
                step(
                    "2", "Invite your staff", "Managers, pharmacists, technicians and cashiers, each with their role."
                ),
                step("3", "Load your stock", "Import your catalogue and opening stock from a spreadsheet, then sell."),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="4",
                width="100%",
            ),
            rx.card(
                rx.hstack(
                    rx.vstack(
                        rx.heading("Ready when your chain is", size="4"),
                        rx.text("Every branch, every till, one login per person.", size="2", color_scheme="gray"),
                        spacing="1",
                    ),
                    rx.spacer(),
                    sign_up_button("landing-sign-up-bottom"),
                    align="center",
                    wrap="wrap",
                    width="100%",
                ),
                width="100%",
                margin_top="1.5em",
            ),
            spacing="5",
            padding_y="3em",
        )
    )


def suspended_page() -> rx.Component:
    """Where staff of a suspended chain land: what happened, why (to the owner) and what to do."""
    state = SuspendedState
    return public_frame(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.icon("circle-pause", size=32, color=rx.color("amber", 10)),
                    rx.heading(
                        rx.cond(state.chain != "", state.chain, "This pharmacy chain"),
                        " is suspended",
                        size="6",
                        id="suspended-title",
                    ),
                    rx.cond(state.since != "", rx.text("Since ", state.since, size="2", color_scheme="gray")),
                    rx.text("Its staff cannot use Pharmacy Cloud until the account is reactivated. No data is lost."),
                    rx.cond(
                        state.is_owner,
                        rx.vstack(
                            rx.cond(
                                state.reason != "",
                                rx.callout(
                                    rx.text("Reason given: ", rx.text.strong(state.reason)),
                                    icon="info",
                                    color_scheme="amber",
                                    id="suspended-reason",
                                ),
                            ),
                            rx.text(
                                "What to do: settle what the reason names (an open invoice, say), then write to ",
                                rx.link(state.support_email, href="mailto:" + state.support_email, id="support-email"),
                                " from your owner e-mail address. We reactivate the chain as soon as it is sorted out.",
                                id="suspended-next-step",
                            ),
                            align="start",
                        ),
                        rx.text(
                            "What to do: contact your chain's owner; they can see why and reach our support team.",
                            id="suspended-next-step",
                        ),
                    ),
                    rx.link(rx.button("Sign out", variant="soft"), href="/api/v1/auth/signed-out"),
                    spacing="3",
                    align="center",
                ),
                max_width="520px",
            ),
            padding_top="3em",
        )
    )
