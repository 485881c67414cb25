"""The signed-out landing page."""

import reflex as rx

from components.layout import public_frame
from pharmacy_saas import routes


def feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=26, color=rx.color("teal", 10)),
            rx.heading(title, size="3"),
            rx.text(text, size="2", color_scheme="gray"),
            spacing="2",
        ),
    )


def landing_page() -> rx.Component:
    return public_frame(
        rx.vstack(
            rx.heading("Run every branch of your pharmacy from one screen", size="8", id="landing-title"),
            rx.text(
                "Stock with batches and expiry, a fast counter, prescriptions and refills, reports, "
                "and an assistant that answers from your own data.",
                size="4",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.link(rx.button("Sign in", size="3", id="landing-sign-in"), href=routes.SIGN_IN),
                spacing="3",
            ),
            rx.grid(
                feature("package", "Inventory", "Batches, expiry alerts and a ledger that never oversells."),
                feature("shopping-cart", "Point of sale", "Keyboard-fast billing with tax and refunds."),
                feature("clipboard-list", "Prescriptions", "Refills your customers request online."),
                feature("shield-check", "Isolated by design", "Each chain's data is walled off in the database."),
                columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                spacing="4",
                width="100%",
                padding_top="2em",
            ),
            spacing="5",
            padding_y="3em",
        )
    )


def suspended_page() -> rx.Component:
    """Where staff of a suspended chain land: what happened and what to do, nothing else."""
    return public_frame(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.icon("circle-pause", size=32, color=rx.color("amber", 10)),
                    rx.heading("This pharmacy chain is suspended", size="6", id="suspended-title"),
                    rx.text(
                        "Its staff cannot use Pharmacy Cloud until the account is reactivated. "
                        "Please contact your chain's owner; they can reach our support team."
                    ),
                    rx.link(rx.button("Back to the start", variant="soft"), href="/api/v1/auth/signed-out"),
                    spacing="3",
                    align="center",
                ),
                max_width="480px",
            ),
            padding_top="3em",
        )
    )
