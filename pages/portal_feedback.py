"""Rate your visit: 1-5 stars and a comment for a picked-up fill (the form the "My prescriptions" page
shows beside a pickup, and on its own at /portal/<slug>/feedback?fill=...)."""

from __future__ import annotations

import reflex as rx

from pages.portal import portal_frame
from pharmacy_saas.state.portal_feedback import PortalFeedbackState

STARS = ("1", "2", "3", "4", "5")
WORDS = {"1": "Very poor", "2": "Poor", "3": "OK", "4": "Good", "5": "Excellent"}


def _star(value: str) -> rx.Component:
    return rx.button(
        rx.icon("star", size=28),
        type="button",
        variant=rx.cond(PortalFeedbackState.rating >= value, "solid", "outline"),
        color_scheme="amber",
        size="3",
        on_click=PortalFeedbackState.choose_rating(value),
        aria_pressed=rx.cond(PortalFeedbackState.rating >= value, "true", "false"),
        aria_label=f"{value} star{'s' if value != '1' else ''}: {WORDS[value]}",
        id=f"feedback-star-{value}",
    )


def rate_visit_form() -> rx.Component:
    """The form for the pickup in `PortalFeedbackState.fill_id` (from ?fill=, or set by the prescriptions
    page's row through `PortalFeedbackState.choose_fill(fill_id)`)."""
    return rx.cond(
        PortalFeedbackState.sent,
        rx.callout(PortalFeedbackState.message, icon="check", color_scheme="grass", id="feedback-sent"),
        rx.form(
            rx.vstack(
                rx.text("How was your visit?", weight="bold", size="4"),
                rx.hstack(*[_star(v) for v in STARS], spacing="2", wrap="wrap", id="feedback-stars"),
                rx.el.input(type="hidden", name="rating", value=PortalFeedbackState.rating),
                rx.text_area(
                    name="comment",
                    placeholder="Anything you want to tell us (optional)",
                    max_length=PortalFeedbackState.comment_limit,
                    rows="4",
                    width="100%",
                    id="feedback-comment",
                ),
                rx.cond(
                    PortalFeedbackState.error != "",
                    rx.callout(PortalFeedbackState.error, icon="info", color_scheme="amber", id="feedback-error"),
                ),
                rx.button("Send", type="submit", size="3", width="100%", id="feedback-send"),
                spacing="3",
                width="100%",
            ),
            on_submit=PortalFeedbackState.submit,
            reset_on_submit=False,
            width="100%",
        ),
    )


def portal_feedback_page() -> rx.Component:
    return portal_frame(
        rx.vstack(
            rx.heading("Rate your visit", size="6", id="feedback-heading"),
            rate_visit_form(),
            spacing="4",
            width="100%",
        )
    )
