"""Patients: the list with search and the registration form, and one patient's record with its access log."""

from typing import Any

import reflex as rx

from components.forms import form_alert, labelled, text_field
from components.tables import data_table
from pages.patient_contact import patient_contact_card
from pages.patient_copy import copy_section
from pages.patient_messages import message_consent_card
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.patients import (
    AccessRow,
    AllergyRow,
    CoverageRow,
    PatientRecordState,
    PatientRow,
    PatientsState,
    PayerChoice,
    PrescriptionRow,
)


def patient_row(patient: PatientRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(patient.full_name, href=f"{routes.PATIENT}?id=" + patient.id, class_name="patient-link")),
        rx.table.cell(patient.date_of_birth),
        class_name="patient-row",
    )


def search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                id="patient-search",
                name="q",
                placeholder="Last name, phone or date of birth (YYYY-MM-DD)",
                default_value=PatientsState.query,
                auto_complete="off",
                width="24em",
            ),
            rx.button("Search", type="submit", id="patient-search-submit"),
        ),
        on_submit=PatientsState.search,
    )


def record_fields(values: Any = None) -> list[rx.Component]:
    """The fields of a record, empty for a new patient or filled from `values` (a dict var)."""

    def value(name: str) -> Any:
        return values[name] if values is not None else ""

    return [
        rx.hstack(
            text_field("Full name", "full_name", default_value=value("full_name"), auto_complete="off"),
            text_field("Date of birth", "date_of_birth", type="date", default_value=value("date_of_birth")),
            width="100%",
        ),
        rx.hstack(
            text_field("Phone", "phone", default_value=value("phone"), input_mode="tel", auto_complete="off"),
            text_field("E-mail", "email", default_value=value("email"), auto_complete="off"),
            width="100%",
        ),
        labelled("Address", rx.text_area(id="address", name="address", default_value=value("address")), "address"),
        labelled(
            "Allergies",
            rx.text_area(id="allergies", name="allergies", default_value=value("allergies")),
            "allergies",
            hint="What the patient reacts to and how, e.g. penicillin (rash).",
        ),
        labelled("Notes", rx.text_area(id="notes", name="notes", default_value=value("notes")), "notes"),
    ]


def consent_box(checked: Any) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.el.input(type="checkbox", id="contact_consent", name="contact_consent", default_checked=checked),
            rx.text("The patient agrees to be contacted (phone or e-mail)", size="2"),
            align="center",
        )
    )


def create_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Register a patient", size="4"),
                rx.text("Home branch: ", rx.text.strong(PatientsState.current_branch), size="2", color_scheme="gray"),
                *record_fields(),
                consent_box(False),
                form_alert(PatientsState.form_error, "patient-form-error"),
                rx.button("Register", type="submit", id="patient-create"),
                width="100%",
            ),
            on_submit=PatientsState.create,
        ),
        width="100%",
        max_width="44em",
    )


def patients_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Patients", size="6", id="patients-title"),
            rx.text(
                "Every search and every record you open is written to the patient access log.",
                size="2",
                color_scheme="gray",
            ),
            search_form(),
            form_alert(PatientsState.error, "patients-error"),
            data_table(
                ("Name", "Date of birth"), rx.foreach(PatientsState.patients, patient_row), table_id="patients-table"
            ),
            rx.hstack(
                rx.button(
                    "Previous", variant="soft", disabled=PatientsState.page == 0, on_click=PatientsState.previous_page
                ),
                rx.button("Next", variant="soft", disabled=~PatientsState.has_more, on_click=PatientsState.next_page),
            ),
            rx.cond(PatientsState.can_edit, create_card()),
            width="100%",
            spacing="4",
        )
    )


def access_row(row: AccessRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when), rx.table.cell(row.action), rx.table.cell(row.who), class_name="patient-access-row"
    )


def access_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Access log", size="4"),
            rx.text("Who opened, registered or changed this record, newest first.", size="2", color_scheme="gray"),
            data_table(
                ("When", "What", "Who"),
                rx.foreach(PatientRecordState.access, access_row),
                table_id="patient-access-log",
                size="1",
            ),
            width="100%",
        ),
        width="100%",
    )


def details_card() -> rx.Component:
    record = PatientRecordState.record
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(record["full_name"], size="6", id="patient-name"),
                rx.badge("born ", record["date_of_birth"], size="2"),
                align="center",
            ),
            rx.cond(
                PatientRecordState.has_allergies,
                rx.callout(
                    rx.text("Allergies: ", rx.el.span(record["allergies"], id="patient-allergies")),
                    icon="triangle-alert",
                    color_scheme="orange",
                    width="100%",
                ),
                rx.text("No allergies recorded.", size="2", color_scheme="gray"),
            ),
            rx.text("Home branch: ", PatientRecordState.home_branch, size="2"),
            rx.link(
                "Purchases (bills)", href=f"{routes.BILLS}?patient=" + PatientRecordState.patient_id, id="patient-bills"
            ),
            rx.text("Consent to be contacted: ", record["consent"], size="2"),
            width="100%",
        ),
        width="100%",
    )


def edit_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Edit", size="4"),
                *record_fields(PatientRecordState.record),
                labelled(
                    "Home branch",
                    rx.select(
                        PatientRecordState.branch_names,
                        name="home_branch",
                        default_value=PatientRecordState.home_branch,
                    ),
                    "home_branch",
                ),
                consent_box(PatientRecordState.contact_consent),
                rx.button("Save", type="submit", id="patient-save"),
                width="100%",
            ),
            on_submit=PatientRecordState.save,
            key=PatientRecordState.record["key"],
        ),
        width="100%",
        max_width="44em",
    )


def coverage_row(row: CoverageRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.payer),
        rx.table.cell(row.member_id),
        rx.table.cell(row.plan),
        rx.table.cell(row.group_number),
        rx.table.cell(
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="coverage_id", value=row.id),
                    rx.input(
                        name="copay",
                        default_value=row.copay,
                        aria_label="Copay per fill",
                        input_mode="decimal",
                        width="6em",
                        class_name="coverage-copay",
                    ),
                    rx.button("Save", type="submit", size="1", variant="soft"),
                    spacing="1",
                ),
                on_submit=PatientRecordState.set_copay,
                key=row.id + row.copay,
            )
        ),
        rx.table.cell(rx.badge(row.state)),
        class_name="coverage-row",
    )


def payer_option(payer: PayerChoice) -> rx.Component:
    return rx.el.option(payer.label, value=payer.id)


def coverage_card() -> rx.Component:
    """The patient's insurance: what claims can be made through (payers are added on /claims)."""
    return rx.card(
        rx.vstack(
            rx.heading("Coverage", size="4"),
            data_table(
                ("Payer", "Member id", "Plan", "Group", "Copay per fill", "State"),
                rx.foreach(PatientRecordState.coverages, coverage_row),
                table_id="patient-coverages",
                size="1",
            ),
            rx.form(
                rx.hstack(
                    rx.el.select(
                        rx.el.option("Choose the payer", value=""),
                        rx.foreach(PatientRecordState.payer_choices, payer_option),
                        name="payer_id",
                        id="coverage-payer",
                        aria_label="Payer",
                    ),
                    rx.input(name="member_id", id="coverage-member", placeholder="Member id"),
                    rx.input(name="plan", id="coverage-plan", placeholder="Plan"),
                    rx.input(name="group_number", id="coverage-group", placeholder="Group number"),
                    rx.input(
                        name="copay",
                        id="coverage-copay",
                        placeholder="Copay per fill",
                        input_mode="decimal",
                        width="9em",
                    ),
                    rx.button("Add coverage", type="submit", id="coverage-add"),
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=PatientRecordState.add_coverage,
                key=PatientRecordState.coverage_form_key,
                width="100%",
            ),
            form_alert(PatientRecordState.coverage_error, "coverage-error"),
            rx.text("Payers are added on the ", rx.link("claims page", href=routes.CLAIMS), ".", size="2"),
            width="100%",
        ),
        width="100%",
        id="coverage-card",
    )


def allergy_row(row: AllergyRow) -> rx.Component:
    return rx.table.row(rx.table.cell(row.written), rx.table.cell(row.matched), class_name="patient-allergy-row")


def allergies_card() -> rx.Component:
    """The structured list the prescription DUR reads: each allergen matched to a class or ingredient."""
    state = PatientRecordState
    return rx.card(
        rx.vstack(
            rx.heading("Allergy record", size="4"),
            rx.text(
                rx.match(
                    state.allergy_status,
                    ("none_known", "Asked: no known allergies."),
                    ("recorded", "Asked: the allergies below."),
                    "Not asked yet.",
                ),
                size="2",
                id="patient-allergy-status",
            ),
            rx.table.root(
                rx.table.body(rx.foreach(state.allergy_rows, allergy_row)),
                width="100%",
                size="1",
                id="patient-allergy-list",
            ),
            rx.cond(
                state.can_edit,
                rx.form(
                    rx.vstack(
                        rx.text_area(
                            name="allergy_list",
                            id="patient-allergy-input",
                            default_value=state.allergy_text,
                            placeholder="One a line, e.g. penicillin (hives)",
                            width="100%",
                        ),
                        rx.el.label(
                            rx.hstack(
                                rx.el.input(
                                    type="checkbox",
                                    name="none_known",
                                    id="patient-none-known",
                                    default_checked=state.allergy_status == "none_known",
                                ),
                                rx.text("Asked: no known allergies", size="2"),
                            )
                        ),
                        form_alert(state.allergy_error, "patient-allergy-error"),
                        rx.button("Record allergies", type="submit", id="patient-allergy-save", variant="soft"),
                        width="100%",
                    ),
                    on_submit=state.save_allergies,
                    key=state.allergy_key,
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def prescription_row(row: PrescriptionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.rx_number, href=f"{routes.PRESCRIPTION}?id=" + row.id)),
        rx.table.cell(row.drug),
        rx.table.cell(row.written),
        rx.table.cell(rx.badge(row.status, variant="soft")),
        class_name="patient-rx-row",
    )


def prescriptions_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Prescriptions", size="4"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("Rx", "Drug", "Written", "Status")])
                ),
                rx.table.body(rx.foreach(PatientRecordState.prescriptions, prescription_row)),
                width="100%",
                size="1",
                id="patient-prescriptions",
            ),
            width="100%",
        ),
        width="100%",
    )


def patient_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← All patients", href=routes.PATIENTS),
            form_alert(PatientRecordState.error, "patient-error"),
            rx.cond(
                PatientRecordState.patient_id != "",
                rx.vstack(
                    details_card(),
                    allergies_card(),
                    rx.cond(PatientRecordState.can_see_prescriptions, prescriptions_card()),
                    rx.cond(PatientRecordState.can_edit, edit_card()),
                    message_consent_card(),  # consent to detailed messages (issue 16, the minimum necessary)
                    patient_contact_card(),  # the channel and refill reminders the patient chose (issue 18)
                    rx.cond(PatientRecordState.can_claim, coverage_card()),
                    rx.cond(PatientRecordState.can_audit, access_card()),
                    copy_section(),  # issue 16: the patient's own copy (owners)
                    width="100%",
                    spacing="4",
                ),
            ),
            width="100%",
            spacing="4",
        )
    )
