"""Add or edit a medicine: names, pack, barcode, schedule, tax and price; deactivate or reactivate it."""

import reflex as rx

from components.forms import form_alert, labelled, text_field
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.catalog import CatalogState

SCHEDULE_CHOICES = (("OTC", "otc"), ("Prescription only", "prescription"), ("Controlled", "controlled"))
CONTROLLED_CLASS_CHOICES = (("CII", "CII"), ("CIII", "CIII"), ("CIV", "CIV"), ("CV", "CV"))
TAX_CHOICES = (("Standard", "standard"), ("Reduced", "reduced"), ("Zero-rated", "zero"), ("Exempt", "exempt"))

# "Add anyway" submits the same form (with what is typed now) carrying a one-shot confirmation.
ADD_ANYWAY = (
    "const flag = document.querySelector('#catalog-form input[name=add_anyway]');"
    "flag.value = '1'; document.getElementById('catalog-form').requestSubmit(); flag.value = '';"
)


def choice(label: str, field_id: str, choices: tuple[tuple[str, str], ...], value: rx.Var, on_change) -> rx.Component:
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(id=field_id, width="100%"),
            rx.select.content(*[rx.select.item(text, value=key) for text, key in choices]),
            value=value,
            on_change=on_change,
        ),
        field_id,
        CatalogState.errors[field_id],
    )


def field(label: str, name: str, hint: str = "", **props) -> rx.Component:
    props.setdefault("auto_complete", "off")
    return text_field(label, name, CatalogState.errors[name], hint, default_value=CatalogState.values[name], **props)


def duplicate_warning() -> rx.Component:
    return rx.cond(
        CatalogState.duplicates.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("copy")),
            rx.vstack(
                rx.text("This medicine may already be in the catalog under another name:", weight="medium"),
                rx.foreach(
                    CatalogState.duplicates,
                    lambda d: rx.link(d["label"], href=d["href"], class_name="duplicate-match"),
                ),
                rx.text("Open it to edit it instead, or add this one if it really is a different product.", size="2"),
                rx.hstack(
                    rx.button("Add anyway", color_scheme="amber", on_click=rx.call_script(ADD_ANYWAY), id="add-anyway"),
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=CatalogState.dismiss_duplicates),
                ),
                spacing="2",
            ),
            color_scheme="amber",
            id="duplicate-warning",
            width="100%",
        ),
    )


def medicine_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                field("Generic name", "generic_name", "As on the pack, e.g. Paracetamol", required=True),
                field("Brand name", "brand_name"),
                field("Strength", "strength", placeholder="500 mg"),
                field("Dosage form", "dosage_form", placeholder="tablet, syrup, inhaler"),
                field("Pack size", "pack_size", "Dispensing units in one pack", type="number", min=1),
                field("Dispensing unit", "dispensing_unit", placeholder="tablet, ml, dose"),
                field(
                    "Barcode / NDC / GTIN",
                    "barcode",
                    "8 to 14 digits; an NDC may be typed with hyphens (saved as the 11-digit NDC)",
                    input_mode="numeric",
                ),
                field("Therapeutic class", "therapeutic_class", placeholder="Analgesic"),
                choice("Schedule", "schedule", SCHEDULE_CHOICES, CatalogState.schedule, CatalogState.choose_schedule),
                rx.cond(
                    CatalogState.schedule == "controlled",
                    choice(
                        "Controlled class",
                        "controlled_class",
                        CONTROLLED_CLASS_CHOICES,
                        CatalogState.controlled_class,
                        CatalogState.choose_controlled_class,
                    ),
                ),
                field("Default sell price", "default_sell_price", "Per dispensing unit", input_mode="decimal"),
                choice(
                    "Tax category",
                    "tax_category",
                    TAX_CHOICES,
                    CatalogState.tax_category,
                    CatalogState.choose_tax_category,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
            # No id: Reflex reads an input with an id through its React ref, and that read missed the
            # value set by ADD_ANYWAY; without one the browser's own FormData is used.
            rx.el.input(type="hidden", name="add_anyway", default_value=""),
            rx.hstack(
                rx.button(rx.cond(CatalogState.editing, "Save", "Add medicine"), type="submit", id="catalog-submit"),
                rx.link(rx.button("Cancel", variant="soft", type="button"), href=routes.INVENTORY),
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=CatalogState.save,
        id="catalog-form",
        key=CatalogState.form_key,
        width="100%",
    )


def active_controls() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.cond(
                CatalogState.is_active,
                rx.text("Active: shown in catalog search and barcode look-up.", id="medicine-active-state"),
                rx.text("Inactive: hidden from catalog search and barcode look-up.", id="medicine-active-state"),
            ),
            rx.spacer(),
            rx.button(
                rx.cond(CatalogState.is_active, "Deactivate", "Reactivate"),
                variant="soft",
                color_scheme=rx.cond(CatalogState.is_active, "red", "green"),
                on_click=CatalogState.toggle_active,
                id="toggle-active",
            ),
            align="center",
            width="100%",
        ),
        width="100%",
    )


def catalog_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading(CatalogState.title, size="6", id="catalog-title"),
                rx.cond(
                    CatalogState.editing & ~CatalogState.is_active,
                    rx.badge("inactive", color_scheme="gray"),
                ),
                rx.spacer(),
                rx.cond(
                    CatalogState.editing,
                    rx.link(
                        rx.button("Stock and movements", variant="soft"),
                        href=routes.MEDICINE + "?id=" + CatalogState.medicine_id,
                    ),
                ),
                align="center",
                width="100%",
            ),
            form_alert(CatalogState.error, "catalog-error"),
            duplicate_warning(),
            rx.cond(CatalogState.ready, medicine_form()),
            rx.cond(CatalogState.ready & CatalogState.editing, active_controls()),
            spacing="4",
            width="100%",
            max_width="56em",
        )
    )
