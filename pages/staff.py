"""Staff management: members with roles, and invitations."""

import reflex as rx

from components.forms import form_alert, labelled, text_field
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas.state.staff import StaffState


def member_row(member: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(member["name"], weight="medium"), rx.text(member["email"], size="1", color_scheme="gray")
        ),
        rx.table.cell(
            rx.cond(
                member["is_me"],
                rx.badge(member["role"]),
                rx.select(
                    StaffState.assignable_roles,
                    value=member["role"].to(str),
                    on_change=lambda role: StaffState.set_role(member["membership_id"], role),
                    size="1",
                    aria_label="Role",
                ),
            )
        ),
        rx.table.cell(member["branches"]),
        rx.table.cell(
            rx.cond(
                member["active"],
                rx.badge("active", color_scheme="grass"),
                rx.badge("deactivated", color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.cond(
                member["is_me"],
                rx.text("you", size="1", color_scheme="gray"),
                rx.cond(
                    member["active"],
                    rx.button(
                        "Deactivate",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=StaffState.set_member_active(member["membership_id"], False),
                    ),
                    rx.button(
                        "Reactivate",
                        size="1",
                        variant="soft",
                        on_click=StaffState.set_member_active(member["membership_id"], True),
                    ),
                ),
            )
        ),
        class_name="member-row",
        data_email=member["email"],
    )


def invitation_row(invitation: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(invitation["email"]),
        rx.table.cell(invitation["role"]),
        rx.table.cell(rx.badge(invitation["status"])),
        rx.table.cell(invitation["expires"]),
        rx.table.cell(
            rx.cond(
                invitation["revocable"] != "",
                rx.button("Revoke", size="1", variant="soft", on_click=StaffState.revoke(invitation["id"])),
            )
        ),
        class_name="invitation-row",
    )


def invite_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Invite a colleague", size="4"),
                rx.hstack(
                    text_field("E-mail", "invite_email", name="email", type="email", required=True),
                    labelled(
                        "Role",
                        rx.select(
                            StaffState.assignable_roles,
                            name="role",
                            id="invite_role",
                            default_value="pharmacist",
                        ),
                        "invite_role",
                    ),
                    labelled(
                        "Branch",
                        rx.select(
                            StaffState.branch_choices,
                            name="branch",
                            id="invite_branch",
                            default_value="All branches",
                        ),
                        "invite_branch",
                    ),
                    width="100%",
                    align="end",
                    wrap="wrap",
                ),
                form_alert(StaffState.invite_error, "invite-error"),
                rx.cond(
                    StaffState.invite_link != "",
                    rx.callout(
                        rx.text(
                            "Send this link (valid 7 days): ",
                            rx.code(StaffState.invite_link, id="invite-link"),
                        ),
                        icon="link",
                        color_scheme="teal",
                        width="100%",
                    ),
                ),
                rx.button("Create invitation", type="submit", id="invite-submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=StaffState.send_invitation,
            reset_on_submit=True,
        ),
        width="100%",
    )


def staff_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Staff", size="6"),
            invite_form(),
            rx.heading("Members", size="4"),
            data_table(("Name", "Role", "Branches", "Status", ""), rx.foreach(StaffState.members, member_row)),
            rx.heading("Invitations", size="4"),
            data_table(("E-mail", "Role", "Status", "Expires", ""), rx.foreach(StaffState.invitations, invitation_row)),
            spacing="4",
            width="100%",
        )
    )
