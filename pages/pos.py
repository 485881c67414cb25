"""The counter (/pos): scan, quantities, discounts, cash or card, from the keyboard (keys in components/keys.py).

A card is presented on Stripe's reader: this page only shows the amount and waits, it never asks for card details.
"""

from typing import Any

import reflex as rx

from components.forms import form_alert
from components.keys import counter_keys
from components.signature import signature_pad
from pages.shell import with_shell
from pharmacy_saas.state.pos import PICKUP_CANVAS, CounterLine, CounterState, Match, PatientPick, SoldLot, TaxRow

KEYS = [
    ("Enter", "scan a barcode: one more; a name: search"),
    ("↑ ↓ Enter", "pick a search match"),
    ("Esc", "close the matches or the prescription prompt"),
    ("+ −", "in a quantity, or in the empty scan field for the last line"),
    ("Tab", "quantity, discount, cash received; leaving a field saves it"),
    ("F4", "scan field"),
    ("F8", "cash received; Enter sells"),
    ("F7", "card on the reader"),
    ("F2", "new sale"),
    ("F9", "print receipt"),
]

# Below this width the bill's lines stack into cards and the totals with the pay action stick to the bottom of
# the screen (a 10-inch tablet in portrait, a phone, or a till window beside another one); above it the
# lines are a table with the totals beside them.
NARROW = "@media (max-width: 1199px)"
# A touch screen has no keyboard at hand (or one only sometimes): the key hints fold into a "Keys" toggle.
TOUCH = "@media (hover: none)"


def key_hint(key: str, what: str) -> rx.Component:
    return rx.hstack(
        rx.code(key, size="1", variant="outline"), rx.text(what, size="1", color_scheme="gray"), spacing="1"
    )


def key_hints() -> rx.Component:
    return rx.flex(*[key_hint(key, what) for key, what in KEYS], wrap="wrap", spacing="3")


def key_legend() -> rx.Component:
    """The key hints: spelled out where there is a keyboard and a mouse, folded on a touch screen."""
    return rx.fragment(
        rx.box(key_hints(), id="pos-keys", style={TOUCH: {"display": "none"}}),
        rx.el.details(
            rx.el.summary(rx.text("Keys", size="2", as_="span"), cursor="pointer"),
            rx.box(key_hints(), padding_top="0.5em"),
            id="pos-keys-toggle",
            style={"display": "none", TOUCH: {"display": "block"}},
        ),
    )


def scan_field() -> rx.Component:
    return rx.form(
        rx.input(
            id="pos-scan",
            name="scan",
            placeholder="Scan a barcode or type a medicine name, then Enter",
            auto_focus=True,
            auto_complete="off",
            size="3",
            width="100%",
        ),
        on_submit=CounterState.scan,
        reset_on_submit=True,
        width="100%",
    )


def patient_button(patient: PatientPick, index: rx.Var) -> rx.Component:
    return rx.button(
        rx.text(patient.full_name, weight="medium"),
        rx.text("born ", patient.date_of_birth, size="1", color_scheme="gray"),
        id="pos-patient-" + index.to_string(),
        class_name="pos-patient-match",
        variant="surface",
        size="1",
        on_click=CounterState.choose_patient(patient.id),
    )


def patient_bar() -> rx.Component:
    """Who the sale is for: a walk-in customer unless a patient is found and chosen. It sits above the
    scan field, so Tab from the scan field still reaches the bill's first quantity."""
    return rx.vstack(
        rx.hstack(
            rx.text("Patient", weight="medium"),
            rx.cond(
                CounterState.patient_id != "",
                rx.badge(CounterState.patient_label, color_scheme="teal", size="2", id="pos-patient"),
                rx.badge("Walk-in customer", color_scheme="gray", size="2", id="pos-patient"),
            ),
            rx.form(
                rx.input(
                    id="pos-patient-search",
                    name="patient",
                    placeholder="Find a patient: name, phone or date of birth, then Enter",
                    auto_complete="off",
                    size="1",
                    width="100%",
                ),
                on_submit=CounterState.find_patient,
                reset_on_submit=True,
                width="22em",
                max_width="100%",
            ),
            rx.cond(
                CounterState.patient_id != "",
                rx.button("Walk-in", id="pos-walk-in", size="1", variant="ghost", on_click=CounterState.walk_in),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            CounterState.patient_matches.length() > 0,
            rx.flex(rx.foreach(CounterState.patient_matches, patient_button), wrap="wrap", spacing="2"),
        ),
        width="100%",
        spacing="1",
    )


def match_button(match: Match, index: rx.Var) -> rx.Component:
    return rx.button(
        rx.hstack(
            rx.text(match.name, weight="medium"),
            rx.text(match.detail, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.text(match.on_hand, " on hand · ", match.price, size="2"),
            width="100%",
            align="center",
        ),
        id="pos-match-" + index.to_string(),
        class_name="pos-match",
        variant="surface",
        width="100%",
        on_click=CounterState.pick(match.medicine_id),
    )


def matches_list() -> rx.Component:
    return rx.cond(
        CounterState.matches.length() > 0,
        rx.vstack(
            rx.foreach(CounterState.matches, match_button),
            rx.button("Close (Esc)", id="pos-cancel", variant="ghost", size="1", on_click=CounterState.close_matches),
            width="100%",
            spacing="1",
        ),
    )


def prescription_prompt() -> rx.Component:
    return rx.cond(
        CounterState.pending_id != "",
        rx.card(
            rx.form(
                rx.vstack(
                    rx.text(rx.text.strong(CounterState.pending_name), " is prescription-only."),
                    rx.hstack(
                        rx.input(
                            id="pos-prescription-ref",
                            name="prescription_ref",
                            placeholder="Prescription reference",
                            auto_complete="off",
                        ),
                        rx.cond(
                            CounterState.can_override,
                            rx.input(
                                id="pos-override-reason",
                                name="override_reason",
                                placeholder="or: why you supply it without one (signed and audited)",
                                width="24em",
                                max_width="100%",
                            ),
                        ),
                        rx.cond(
                            CounterState.can_override,
                            # The override is an electronic signature: the pharmacist re-proves who they are.
                            rx.input(
                                id="pos-override-signature",
                                name="signature",
                                type="password",
                                placeholder="your password or 6-digit code, to sign",
                                auto_complete="off",
                                width="18em",
                                max_width="100%",
                            ),
                        ),
                        rx.button("Add (Enter)", type="submit"),
                        rx.button(
                            "Cancel (Esc)",
                            id="pos-cancel",
                            type="button",
                            variant="ghost",
                            on_click=CounterState.close_matches,
                        ),
                        wrap="wrap",
                    ),
                    width="100%",
                ),
                on_submit=CounterState.add_prescribed,
                reset_on_submit=True,
            ),
            width="100%",
        ),
    )


def line_field_key(value_key: rx.Var) -> rx.Var:
    """A line field's form key: the draft's value (a new one remounts the field showing it) and the count
    of refused edits (a refusal redraws the field with the draft's value, not what was typed)."""
    return value_key + "/" + CounterState.refusals.to_string()


def line_hidden_fields(line: CounterLine) -> list[rx.Component]:
    """Which line a field belongs to, sent with Enter; the line number alone could name the line that moved
    up after one was removed."""
    return [
        rx.el.input(type="hidden", name="line_no", default_value=line.line_no.to_string()),
        rx.el.input(type="hidden", name="medicine_id", default_value=line.medicine_id),
    ]


def quantity_cell(line: CounterLine) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("minus", size=14),
            class_name="pos-minus",
            tab_index=-1,
            size="1",
            variant="soft",
            aria_label="One less",
            on_click=CounterState.step_quantity(line.line_no, -1),
        ),
        rx.form(
            *line_hidden_fields(line),
            rx.input(
                id="pos-qty-" + line.line_no.to_string(),
                name="quantity",
                class_name="pos-qty pos-edit",
                default_value=line.quantity.to_string(),
                input_mode="numeric",
                auto_complete="off",
                width="4.5em",
                aria_label="Quantity",
                # Leaving the field commits it, like Enter: Tab, a click or tap elsewhere, an F-key.
                on_blur=CounterState.leave_quantity(line.line_no, line.medicine_id),
            ),
            key=line_field_key(line.quantity_key),
            on_submit=CounterState.set_quantity,
        ),
        rx.icon_button(
            rx.icon("plus", size=14),
            class_name="pos-plus",
            tab_index=-1,
            size="1",
            variant="soft",
            aria_label="One more",
            on_click=CounterState.step_quantity(line.line_no, 1),
        ),
        align="center",
        spacing="1",
    )


def discount_cell(line: CounterLine) -> rx.Component:
    return rx.form(
        *line_hidden_fields(line),
        rx.input(
            id="pos-discount-" + line.line_no.to_string(),
            name="line_discount",
            class_name="pos-edit",
            default_value=line.line_discount,
            input_mode="decimal",
            auto_complete="off",
            width="6em",
            aria_label="Line discount",
            on_blur=CounterState.leave_line_discount(line.line_no, line.medicine_id),
        ),
        key=line_field_key(line.discount_key),
        on_submit=CounterState.set_line_discount,
    )


def bill_row(line: CounterLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(line.description, weight="medium", class_name="pos-medicine"),
            rx.cond(line.schedule != "otc", rx.badge(line.schedule, color_scheme="orange", size="1")),
            rx.cond(line.prescription != "", rx.text(line.prescription, size="1", color_scheme="gray")),
            class_name="pos-cell-medicine",
        ),
        rx.table.cell(
            rx.text(line.lots, size="1", class_name="pos-lots"),
            rx.cond(line.short != "", rx.text(line.short, size="1", color_scheme="red", class_name="pos-short")),
            class_name="pos-cell-lots",
        ),
        # A fill's quantity and price are the fill's: shown, not typed (its discount is the insurer's part).
        rx.table.cell(
            rx.cond(line.fill_id != "", rx.text(line.quantity, class_name="pos-qty-fixed"), quantity_cell(line)),
            class_name="pos-cell-qty",
        ),
        rx.table.cell(line.unit_price, class_name="pos-cell-price", data_label="× "),
        rx.table.cell(
            rx.cond(line.fill_id != "", rx.text(line.line_discount, size="2"), discount_cell(line)),
            class_name="pos-cell-discount",
            data_label="Discount ",
        ),
        rx.table.cell(line.amount, class_name="pos-amount pos-cell-amount"),
        rx.table.cell(
            rx.icon_button(
                rx.icon("x", size=14),
                tab_index=-1,
                size="1",
                variant="ghost",
                color_scheme="red",
                aria_label="Remove line",
                on_click=CounterState.remove_line(line.line_no),
            ),
            class_name="pos-cell-remove",
        ),
        class_name="pos-line",
        data_medicine=line.medicine_id,
    )


# On a narrow screen a line is a small card: the medicine and its amount, the lots, then quantity, unit
# price and discount, so nothing is cut off and nothing scrolls sideways.
NARROW_LINES = {
    NARROW: {
        # Radix gives the table height 0 (a minimum height for a real table, none for a block).
        "& table, & tbody": {"display": "block", "width": "100%", "height": "auto"},
        "& .rt-ScrollAreaViewport > *": {"width": "100%"},
        "& thead": {"display": "none"},
        "& tr.pos-line": {
            "display": "grid",
            "grid_template_columns": "auto 1fr auto auto",
            "grid_template_areas": " ".join(
                ['"medicine medicine amount remove"', '"lots lots lots lots"', '"qty price discount discount"']
            ),
            "align_items": "center",
            "column_gap": "0.5em",
            "row_gap": "0.25em",
            "padding": "0.5em 0",
            "border_bottom": "1px solid var(--gray-a5)",
        },
        "& tr.pos-line > td": {"padding": "0", "box_shadow": "none", "min_height": "0", "height": "auto"},
        "& td[data-label]::before": {"content": "attr(data-label)", "color": "var(--gray-11)", "font_size": "0.85em"},
        "& .pos-cell-medicine": {"grid_area": "medicine"},
        "& .pos-cell-lots": {"grid_area": "lots"},
        "& .pos-cell-qty": {"grid_area": "qty"},
        "& .pos-cell-price": {"grid_area": "price", "white_space": "nowrap"},
        "& .pos-cell-discount": {"grid_area": "discount", "display": "flex", "align_items": "center", "gap": "0.25em"},
        "& .pos-cell-amount": {"grid_area": "amount", "font_weight": "600", "text_align": "right"},
        "& .pos-cell-remove": {"grid_area": "remove"},
    }
}


def bill_table() -> rx.Component:
    headers = ("Medicine", "Lots FEFO would take (preview)", "Quantity", "Unit price", "Line discount", "Amount", "")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(CounterState.lines, bill_row)),
        width="100%",
        id="pos-bill",
        style=NARROW_LINES,
    )


def total_row(label: Any, value: rx.Var, row_id: str = "", kind: str = "pos-total-minor") -> rx.Component:
    return rx.hstack(rx.text(label), rx.spacer(), rx.text(value, id=row_id or None), width="100%", class_name=kind)


def tax_row(row: TaxRow) -> rx.Component:
    return rx.hstack(
        rx.text(row.label, size="2"),
        rx.spacer(),
        rx.text(row.amount, size="2"),
        width="100%",
        class_name="pos-total-detail",
    )


# On a narrow screen the totals and the pay action stay on screen at the bottom, however long the bill:
# subtotal, discounts and tax on one line, then the bill discount, the amount due, cash and card. Net,
# the tax bands and the total before rounding are on the receipt and on a wide screen.
MINOR_TOTAL = {"flex": "0 0 auto", "order": "0", "width": "auto", "gap": "0.35em", "font_size": "0.9em"}
NARROW_TOTALS = {
    NARROW: {
        "width": "100%",
        "min_width": "0",
        "position": "sticky",
        "bottom": "0",
        "z_index": "2",
        "background": "var(--color-panel-solid)",
        "box_shadow": "0 -4px 12px var(--gray-a4)",
        # The bottom padding and the last row's right gutter keep cash, Sell and Card clear of the
        # assistant's button, which floats over the bottom right corner (1.5em in, 3em across).
        "padding": "0.5em 0.75em 1.75em",
        "& .pos-totals": {"flex_direction": "row", "flex_wrap": "wrap", "column_gap": "1.25em", "row_gap": "0.4em"},
        "& .pos-totals > *": {"flex": "0 0 100%", "order": "1"},  # the minor totals (order 0) come first
        "& .pos-totals > .pos-total-minor": MINOR_TOTAL,
        "& .pos-totals > .pos-total-detail, & .pos-totals > .rt-Separator, & .pos-cash-label": {"display": "none"},
        "& .pos-card-actions": {"flex_direction": "row", "padding_right": "4.5em"},
        "& .pos-card-actions > *": {"flex": "1 1 0"},  # side by side; stacked full width on a wide screen
    }
}


def totals_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            total_row("Subtotal", CounterState.lines_total),
            total_row("Discounts", CounterState.discount_total),
            rx.form(
                rx.hstack(
                    rx.el.label("Bill discount", html_for="pos-bill-discount"),
                    rx.spacer(),
                    rx.input(
                        id="pos-bill-discount",
                        name="bill_discount",
                        class_name="pos-edit",
                        default_value=CounterState.bill_discount,
                        key=line_field_key(CounterState.bill_discount),
                        input_mode="decimal",
                        auto_complete="off",
                        width="7em",
                        on_blur=CounterState.leave_bill_discount,
                    ),
                    width="100%",
                    align="center",
                ),
                on_submit=CounterState.set_bill_discount,
                width="100%",
            ),
            total_row(
                rx.cond(CounterState.prices_include_tax, "Net (prices include tax)", "Net"),
                CounterState.net_total,
                kind="pos-total-detail",
            ),
            rx.foreach(CounterState.tax_rows, tax_row),
            total_row("Tax", CounterState.tax_total, "pos-tax"),
            total_row("Total", CounterState.total, kind="pos-total-detail"),
            rx.cond(CounterState.rounding != "", total_row("Rounding", CounterState.rounding)),
            rx.divider(),
            rx.hstack(
                rx.heading("Amount due", size="5"),
                rx.spacer(),
                rx.heading(CounterState.currency, " ", CounterState.total_due, size="5", id="pos-due"),
                width="100%",
                align="baseline",
            ),
            pay_form(),
            card_panel(),
            width="100%",
            spacing="2",
            class_name="pos-totals",
        ),
        width="22em",
        min_width="18em",
        flex_shrink="0",
        id="pos-totals",
        style=NARROW_TOTALS,
    )


def pay_form() -> rx.Component:
    return rx.form(
        # The draft the screen shows as Enter is pressed: the server sells only that draft.
        rx.el.input(
            type="hidden",
            name="shown",
            id="pos-shown",
            default_value=CounterState.draft_shown,
            key=line_field_key(CounterState.draft_shown),
        ),
        rx.vstack(
            rx.el.label("Cash received", html_for="pos-cash", font_weight="500", class_name="pos-cash-label"),
            rx.hstack(
                rx.input(
                    id="pos-cash",
                    name="cash_received",
                    placeholder="Cash received",
                    aria_label="Cash received",
                    auto_complete="off",
                    input_mode="decimal",
                    size="3",
                    flex="1",
                    min_width="0",
                ),
                rx.button("Sell (Enter)", type="submit", size="3", id="pos-pay"),
                width="100%",
            ),
            width="100%",
            spacing="1",
        ),
        on_submit=CounterState.pay,
        reset_on_submit=True,
        width="100%",
    )


def card_panel() -> rx.Component:
    """Card (F7): the customer presents the card on Stripe's reader; here only the amount and the wait."""
    return rx.cond(
        CounterState.card_waiting,
        rx.callout(
            rx.vstack(
                rx.text("Present the card on the reader… ", rx.text.strong(CounterState.card_amount)),
                rx.button(
                    "Stop waiting", id="pos-card-stop", size="1", variant="ghost", on_click=CounterState.stop_card
                ),
                spacing="1",
            ),
            icon="credit-card",
            color_scheme="blue",
            width="100%",
            id="pos-card-waiting",
        ),
        rx.flex(
            rx.button("Card (F7)", id="pos-card", size="3", variant="soft", on_click=CounterState.pay_by_card),
            rx.button(
                "Split payment…",
                id="pos-split",
                size="2",
                variant="ghost",
                on_click=CounterState.split_payment,
            ),
            direction="column",
            align="stretch",
            spacing="2",
            width="100%",
            class_name="pos-card-actions",
        ),
    )


def sold_lot_row(lot: SoldLot) -> rx.Component:
    return rx.table.row(
        rx.table.cell(lot.description),
        rx.table.cell(lot.lot_number),
        rx.table.cell(lot.expiry),
        rx.table.cell(lot.quantity),
        class_name="pos-sold-lot",
    )


def sale_done_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(
                    "Sold · bill ",
                    rx.link(CounterState.sold_number, href=CounterState.sold_bill_href, id="pos-bill-number"),
                    size="5",
                ),
                rx.spacer(),
                rx.badge("paid", color_scheme="green", size="2"),
                width="100%",
            ),
            rx.hstack(
                rx.text("Total ", rx.text.strong(CounterState.sold_total)),
                rx.cond(
                    CounterState.sold_by_card,
                    rx.text("Card ", rx.text.strong(CounterState.sold_cash, id="pos-paid-card")),
                    rx.hstack(
                        rx.text("Cash ", rx.text.strong(CounterState.sold_cash)),
                        rx.text("Change due ", rx.text.strong(CounterState.sold_change, id="pos-change"), size="5"),
                        spacing="5",
                        align="baseline",
                    ),
                ),
                spacing="5",
                align="baseline",
            ),
            rx.cond(
                CounterState.sold_fills > 0,
                rx.callout(
                    rx.text(CounterState.sold_fills, " prescription fill(s) picked up: the pickup is recorded."),
                    icon="pill",
                    color_scheme="green",
                    size="1",
                    id="pos-fills-handed",
                ),
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("Medicine", "Lot", "Expiry", "Quantity")])
                ),
                rx.table.body(rx.foreach(CounterState.sold_lots, sold_lot_row)),
                width="100%",
                size="1",
            ),
            rx.hstack(
                rx.button("New sale (F2)", id="pos-new-sale", on_click=CounterState.new_sale),
                rx.button("Print receipt (F9)", id="pos-print", variant="soft", on_click=CounterState.print_receipt),
                rx.button("Invoice (A4)", id="pos-invoice", variant="soft", on_click=CounterState.print_invoice),
            ),
            width="100%",
        ),
        width="100%",
        id="pos-sale-done",
    )


def pickup_panel() -> rx.Component:
    """Handing over prescription fills: who collects, the offer to counsel answered to a pharmacist who signs
    it, the ID for a controlled substance, and the signature drawn in the box (mouse, finger or pen)."""
    return rx.card(
        rx.cond(
            CounterState.pickup_ready,
            rx.hstack(
                rx.icon("circle-check", color="var(--green-9)"),
                rx.text(CounterState.pickup_summary, id="pos-pickup-summary", size="2"),
                rx.spacer(),
                rx.button("Change", id="pos-pickup-redo", size="1", variant="ghost", on_click=CounterState.redo_pickup),
                align="center",
                width="100%",
            ),
            rx.form(
                rx.vstack(
                    rx.heading("Pickup", size="4"),
                    rx.flex(
                        rx.el.select(
                            rx.el.option("The patient collects", value="patient"),
                            rx.el.option("An agent collects for the patient", value="agent"),
                            name="picked_up_by",
                            id="pos-pickup-by",
                            aria_label="Who collects",
                        ),
                        rx.input(
                            name="picked_up_by_name",
                            id="pos-pickup-name",
                            placeholder="Name of the person collecting",
                            auto_complete="off",
                            min_width="14em",
                        ),
                        wrap="wrap",
                        spacing="2",
                        align="center",
                    ),
                    rx.flex(
                        rx.text("Offer to counsel:", size="2", weight="medium"),
                        rx.el.select(
                            rx.el.option("Choose the answer", value=""),
                            rx.el.option("Accepted: counselled by the pharmacist", value="accepted"),
                            rx.el.option("Declined", value="declined"),
                            name="counselling",
                            id="pos-pickup-counselling",
                            aria_label="Answer to the offer to counsel",
                        ),
                        wrap="wrap",
                        spacing="2",
                        align="center",
                    ),
                    rx.flex(
                        rx.input(
                            name="pharmacist_email",
                            id="pos-pickup-pharmacist",
                            placeholder="Pharmacist's e-mail (blank: you)",
                            auto_complete="off",
                            min_width="16em",
                        ),
                        rx.input(
                            name="secret",
                            id="pos-pickup-secret",
                            type="password",
                            placeholder="Pharmacist's password or 6-digit code",
                            auto_complete="off",
                            min_width="16em",
                        ),
                        wrap="wrap",
                        spacing="2",
                    ),
                    rx.text(
                        rx.cond(
                            CounterState.pickup_needs_id,
                            "Controlled substance: check the ID of the person collecting.",
                            "ID (needed for controlled substances):",
                        ),
                        size="2",
                        weight=rx.cond(CounterState.pickup_needs_id, "bold", "regular"),
                        color_scheme=rx.cond(CounterState.pickup_needs_id, "orange", "gray"),
                    ),
                    rx.flex(
                        rx.input(
                            name="id_type", id="pos-pickup-id-type", placeholder="ID type (e.g. driver's license)"
                        ),
                        rx.input(
                            name="id_number", id="pos-pickup-id-number", placeholder="ID number", auto_complete="off"
                        ),
                        wrap="wrap",
                        spacing="2",
                    ),
                    signature_pad(PICKUP_CANVAS, "Signature of the person collecting"),
                    form_alert(CounterState.pickup_error, "pos-pickup-error"),
                    rx.button("Record pickup", type="submit", id="pos-pickup-record"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=CounterState.record_pickup,
                width="100%",
            ),
        ),
        width="100%",
        id="pos-pickup",
    )


def emergency_supply_offer() -> rx.Component:
    """A prescription-only medicine refused for want of a fill: the pharmacist records an emergency supply
    (its fill is then scanned like any other); anyone else is told to ask the pharmacist."""
    return rx.cond(
        CounterState.emergency_href != "",
        rx.cond(
            CounterState.can_supply_emergency,
            rx.link(
                rx.button("Record an emergency supply", variant="soft", color_scheme="amber"),
                href=CounterState.emergency_href,
                id="pos-emergency-supply",
            ),
            rx.text(
                "Only a pharmacist can record an emergency supply: ask the pharmacist.",
                size="2",
                color_scheme="gray",
                id="pos-emergency-ask",
            ),
        ),
    )


def pos_page() -> rx.Component:
    return with_shell(
        counter_keys(),
        rx.vstack(
            rx.hstack(
                rx.heading("Counter", size="6", id="pos-title"),
                rx.badge(CounterState.current_branch, size="2"),
                rx.spacer(),
                rx.cond(
                    CounterState.has_lines,
                    rx.button(
                        "Discard sale",
                        id="pos-discard",
                        variant="soft",
                        color_scheme="red",
                        on_click=CounterState.discard_sale,
                    ),
                ),
                align="center",
                width="100%",
            ),
            key_legend(),
            patient_bar(),
            scan_field(),
            matches_list(),
            prescription_prompt(),
            form_alert(CounterState.error, "pos-error"),
            emergency_supply_offer(),
            rx.cond(CounterState.sale_done, sale_done_card()),
            rx.cond(
                CounterState.has_lines,
                rx.hstack(
                    # flex none on a narrow screen: in the page's column a flex basis of 0 would fold the table.
                    rx.box(bill_table(), flex="1", min_width="0", width="100%", style={NARROW: {"flex": "none"}}),
                    totals_card(),
                    align="start",
                    width="100%",
                    spacing="4",
                    # On a narrow screen this row dissolves: the totals' sticky box is then the whole page,
                    # so they stay on screen even when matches or a prompt push the bill down.
                    style={NARROW: {"display": "contents"}},
                ),
                rx.cond(~CounterState.sale_done, rx.text("Scan the first item to start a sale.", color_scheme="gray")),
            ),
            rx.cond(CounterState.has_fills, pickup_panel()),
            spacing="4",
            width="100%",
        ),
    )
