"""Staff page: members, roles, deactivation and invitations."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.models import InvitationStatus
from backend.accounts.staff import (
    change_role,
    invite,
    list_invitations,
    list_members,
    revoke_invitation,
    set_active,
)
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, run_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import ASSIGNABLE_ROLES

ALL_BRANCHES = "All branches"


class StaffState(ShellState):
    members: list[dict[str, Any]] = []
    invitations: list[dict[str, str]] = []
    assignable_roles: list[str] = []
    invite_error: str = ""
    invite_link: str = ""

    @rx.var
    def branch_choices(self) -> list[str]:
        return [ALL_BRANCHES, *[b["name"] for b in self.branches]]

    async def _reload(self, ctx: TenantContext) -> None:
        members = await run_service(list_members, ctx)
        invitations = await run_service(list_invitations, ctx)
        self.members = [
            {
                "membership_id": m.membership_id,
                "name": m.full_name,
                "email": m.email,
                "role": m.role,
                "active": m.is_active,
                "branches": ", ".join(m.branches) or ALL_BRANCHES,
                "is_me": m.user_id == str(ctx.user_id),
            }
            for m in members
        ]
        self.invitations = [
            {
                "id": i.id,
                "email": i.email,
                "role": i.role,
                "status": str(i.status),
                "revocable": "yes" if i.status == InvitationStatus.PENDING else "",
                "expires": i.expires_at.strftime("%Y-%m-%d"),
            }
            for i in invitations
        ]
        self.assignable_roles = list(ASSIGNABLE_ROLES.get(ctx.role or "", ()))

    @rx.event
    @guarded("staff.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.invite_link = self.invite_error = ""
        await self._reload(ctx)

    @rx.event
    @guarded("staff.invite")
    async def send_invitation(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        branch = str(form.get("branch") or ALL_BRANCHES)
        branch_ids = [b["id"] for b in self.branches if b["name"] == branch]
        try:
            created = await run_service(invite, ctx, str(form.get("email", "")), str(form.get("role", "")), branch_ids)
        except PharmacyError as exc:
            self.invite_error, self.invite_link = exc.message, ""
            return None
        self.invite_error, self.invite_link = "", created.link
        await self._reload(ctx)
        return rx.toast.success("Invitation created: send the link to your colleague.")

    @rx.event
    @guarded("staff.invite")
    async def revoke(self, ctx: TenantContext, invitation_id: str) -> Any:
        await run_service(revoke_invitation, ctx, invitation_id)
        await self._reload(ctx)
        return rx.toast.info("Invitation revoked.")

    @rx.event
    @guarded("staff.manage")
    async def set_role(self, ctx: TenantContext, membership_id: str, role: str) -> Any:
        await run_service(change_role, ctx, membership_id, role)
        await self._reload(ctx)
        return rx.toast.success(f"Role changed to {role}.")

    @rx.event
    @guarded("staff.manage")
    async def set_member_active(self, ctx: TenantContext, membership_id: str, active: bool) -> Any:
        await run_service(set_active, ctx, membership_id, active)
        await self._reload(ctx)
        return rx.toast.success("Member reactivated." if active else "Member deactivated; signed out.")
