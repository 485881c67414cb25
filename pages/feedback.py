"""Customer feedback per branch: averages, the trend by week, and the comments with the alerts and the most
negative first (readable on a tablet: the cards stack, the table scrolls)."""

import reflex as rx

from components.tables import foreach_table
from pages.shell import with_shell
from pharmacy_saas.state.feedback import FeedbackState

SUMMARY = FeedbackState.summary


def summary_card(label: str, value: rx.Var, value_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(rx.text(label, size="2", color_scheme="gray"), rx.heading(value, size="6", id=value_id), spacing="1"),
        width="100%",
    )


def trend() -> rx.Component:
    return rx.vstack(
        rx.heading("Average rating per week (last 12 weeks)", size="4"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="week"),
            rx.recharts.y_axis(domain=[0, 5]),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key="rating", name="Average rating", fill=rx.color("teal", 9)),
            data=FeedbackState.weeks,
            width="100%",
            height=220,
        ),
        rx.box(
            foreach_table(
                ("Week of", "Ratings", "Average rating", "Average sentiment"),
                FeedbackState.weeks,
                lambda w: rx.table.row(
                    rx.table.cell(w["week"]),
                    rx.table.cell(w["count"]),
                    rx.table.cell(w["rating_text"]),
                    rx.table.cell(w["sentiment_text"]),
                    class_name="feedback-week-row",
                ),
                "feedback-weeks",
            ),
            width="100%",
            overflow_x="auto",
        ),
        width="100%",
        id="feedback-trend",
    )


def comment_card(c: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(c["stars"], color=rx.color("amber", 10), size="4", aria_label=c["rating"]),
                rx.badge(
                    c["label"],
                    color_scheme=rx.match(c["tone"], ("negative", "tomato"), ("positive", "grass"), "gray"),
                ),
                rx.text("score ", c["score"], size="1", color_scheme="gray"),
                rx.cond(c["alert"] == "open", rx.badge("Alert", color_scheme="red", class_name="feedback-alert")),
                rx.cond(c["alert"] == "seen", rx.badge("Alert seen", color_scheme="gray")),
                rx.spacer(),
                rx.text(c["when"], size="1", color_scheme="gray"),
                wrap="wrap",
                align="center",
                width="100%",
            ),
            rx.text(c["comment"], class_name="feedback-text", white_space="pre-wrap"),
            rx.cond(
                c["alert"] == "open",
                rx.button(
                    "Mark seen",
                    size="1",
                    variant="soft",
                    on_click=FeedbackState.mark_seen(c["id"]),
                    class_name="feedback-mark-seen",
                ),  # fmt: skip
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="feedback-comment",
    )


def feedback_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Customer feedback at ", FeedbackState.feedback_branch, size="6", id="feedback-title"),
            rx.text(
                "Ratings and comments customers left after picking up. Comments are scored offline "
                "(negative to positive); a very negative one raises an alert for the branch.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                FeedbackState.error != "",
                rx.callout(FeedbackState.error, icon="triangle-alert", color_scheme="red", id="feedback-error"),
            ),
            rx.grid(
                summary_card("Ratings", SUMMARY["count"], "feedback-count"),
                summary_card("Average rating", SUMMARY["rating"], "feedback-average"),
                summary_card("Average sentiment", SUMMARY["sentiment"], "feedback-sentiment"),
                summary_card("Open alerts", SUMMARY["alerts"], "feedback-alerts"),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            trend(),
            rx.heading("Comments: alerts and the most negative first", size="4"),
            rx.cond(
                FeedbackState.comments.length() > 0,
                rx.vstack(rx.foreach(FeedbackState.comments, comment_card), width="100%", id="feedback-comments"),
                rx.text("No feedback at this branch yet.", color_scheme="gray", id="feedback-none"),
            ),
            spacing="4",
            width="100%",
        ),
        on_branch_change=FeedbackState.switch_branch,
    )
