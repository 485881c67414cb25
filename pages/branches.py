"""Settings → Branches (owner): list, add, edit, deactivate and reactivate the chain's branches."""

import reflex as rx

from components.forms import form_alert, text_field
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.branches import BranchesState


def branch_row(branch: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(branch["name"], weight="medium"),
            rx.text(branch["address"], " ", branch["phone"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(rx.code(branch["code"])),
        rx.table.cell(branch["time_zone"]),
        rx.table.cell(rx.text(branch["tax"], size="1")),
        rx.table.cell(rx.text(branch["hours"], size="1")),
        rx.table.cell(
            rx.badge(
                branch["status"],
                color_scheme=rx.cond(branch["active"], "green", "gray"),
                class_name="branch-status",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=BranchesState.edit(branch["id"])),
                rx.cond(
                    branch["active"],
                    rx.alert_dialog.root(
                        rx.alert_dialog.trigger(rx.button("Deactivate", size="1", variant="soft", color_scheme="red")),
                        rx.alert_dialog.content(
                            rx.alert_dialog.title("Deactivate ", branch["name"], "?"),
                            rx.alert_dialog.description(
                                "Its bills, stock and reports stay. It takes no sales, deliveries or transfers in, "
                                "and leaves the branch switcher, until you reactivate it.",
                            ),
                            rx.hstack(
                                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft")),
                                rx.alert_dialog.action(
                                    rx.button(
                                        "Deactivate",
                                        color_scheme="red",
                                        on_click=BranchesState.set_active(branch["id"], False),
                                        class_name="confirm-deactivate",
                                    )
                                ),
                                justify="end",
                                spacing="3",
                            ),
                        ),
                    ),
                    rx.button(
                        "Reactivate", size="1", variant="soft", on_click=BranchesState.set_active(branch["id"], True)
                    ),
                ),
            )
        ),
        class_name="branch-row",
        data_code=branch["code"],
    )


def hours_field(day: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(day[1], html_for="hours_" + day[0], font_size="0.85em"),
        rx.input(
            id="hours_" + day[0],
            name="hours_" + day[0],
            default_value=BranchesState.form["hours_" + day[0]],
            placeholder="09:00-18:00",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def branch_form() -> rx.Component:
    form = BranchesState.form
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(
                    rx.cond(BranchesState.editing_id != "", "Edit " + BranchesState.editing_name, "Add a branch"),
                    size="4",
                    id="branch-form-title",
                ),
                rx.hstack(
                    text_field("Name", "branch_name", name="name", default_value=form["name"], required=True),
                    text_field(
                        "Code (starts its bill numbers)",
                        "branch_code",
                        name="code",
                        default_value=form["code"],
                        placeholder="OT1",
                        required=True,
                    ),
                    width="100%",
                ),
                rx.hstack(
                    text_field("Address", "branch_address", name="address", default_value=form["address"]),
                    text_field("Phone", "branch_phone", name="phone", default_value=form["phone"]),
                    width="100%",
                ),
                rx.hstack(
                    text_field(
                        "Time zone",
                        "branch_time_zone",
                        hint="As in the tz database, e.g. Europe/London or America/Chicago: business days, expiry "
                        "and bill years follow it.",
                        name="time_zone",
                        default_value=form["time_zone"],
                        required=True,
                    ),
                    text_field(
                        "Standard tax rate (%)",
                        "branch_default_tax_rate",
                        name="default_tax_rate",
                        default_value=form["default_tax_rate"],
                    ),
                    text_field(
                        "Reduced tax rate (%)",
                        "branch_reduced_tax_rate",
                        name="reduced_tax_rate",
                        default_value=form["reduced_tax_rate"],
                    ),
                    width="100%",
                    align="start",
                ),
                rx.hstack(
                    rx.checkbox(
                        name="prices_include_tax",
                        id="branch_prices_include_tax",
                        default_checked=form["prices_include_tax"] != "",
                    ),
                    rx.el.label("Shelf prices include tax", html_for="branch_prices_include_tax"),
                    align="center",
                ),
                rx.text(
                    "Opening hours, as customers will see them: 09:00-18:00, with a break as 09:00-13:00, 14:00-18:00, "
                    "or 'closed'. Leave every day empty if you do not want to state them yet; once one day is filled, "
                    "an empty day is closed.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.grid(rx.foreach(BranchesState.weekdays, hours_field), columns="4", spacing="3", width="100%"),
                form_alert(BranchesState.error, "branch-error"),
                rx.hstack(
                    rx.button(
                        rx.cond(BranchesState.editing_id != "", "Save changes", "Add branch"),
                        type="submit",
                        id="save-branch",
                    ),
                    rx.cond(
                        BranchesState.editing_id != "",
                        rx.button("Cancel", type="button", variant="soft", on_click=BranchesState.new),
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=BranchesState.save,
            key=BranchesState.form_version,
        ),
        width="100%",
        id="branch-form-card",
    )


def branches_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Branches", size="6", id="branches-title"),
                rx.spacer(),
                rx.link(rx.button("Back to settings", variant="soft"), href=routes.SETTINGS),
                width="100%",
                align="center",
            ),
            data_table(
                ("Branch", "Code", "Time zone", "Tax", "Opening hours", "Status", ""),
                rx.foreach(BranchesState.rows, branch_row),
            ),
            branch_form(),
            spacing="4",
            width="100%",
        )
    )
