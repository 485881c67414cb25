"""Staff management: members, roles, branch scope, invitations and deactivation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from backend.accounts import auth_path, throttle
from backend.accounts.models import Invitation, InvitationStatus
from backend.accounts.passwords import check_password
from backend.core.crypto import decrypt, encrypt
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.core.models import utc_now
from backend.core.passwords import hash_password, verify_password
from backend.core.settings import get_settings
from backend.core.tokens import new_token, token_hash
from backend.jobs.service import enqueue_job
from backend.notifications.mail import send_mail
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.models import Branch, Membership, MembershipBranch, User
from tenants.provisioning import EMAIL_RE
from tenants.roles import ASSIGNABLE_ROLES, OWNER, STAFF_ROLES, require
from tenants.session import platform_session, tenant_session

INVITE_JOB = "accounts.send_invitation"
INVITE_PURPOSE = "invitation-token"


@dataclass(frozen=True)
class Member:
    membership_id: str
    user_id: str
    full_name: str
    email: str
    role: str
    is_active: bool
    branches: list[str]


@dataclass(frozen=True)
class PendingInvitation:
    id: str
    email: str
    role: str
    expires_at: datetime
    status: InvitationStatus


@dataclass(frozen=True)
class InvitationCreated:
    invitation_id: str
    link: str


@dataclass(frozen=True)
class InvitationView:
    tenant_name: str
    email: str
    role: str
    status: InvitationStatus
    has_account: bool


def list_members(ctx: TenantContext) -> list[Member]:
    """Everyone with a membership in this chain, owners first."""
    require(ctx, "staff.view")
    with tenant_session(ctx) as session:
        # Only the user columns the app role may read (never the password hash).
        rows = session.exec(
            select(Membership, User.full_name, User.email).join(User, col(User.id) == Membership.user_id)
        ).all()
        scopes = _branch_names_by_membership(session)
        members = [
            Member(str(m.id), str(m.user_id), name, email, m.role, m.is_active, scopes.get(m.id, []))
            for m, name, email in rows
        ]
    return sorted(members, key=lambda m: (STAFF_ROLES.index(m.role), m.full_name.lower()))


def _branch_names_by_membership(session: Session) -> dict[uuid.UUID, list[str]]:
    rows = session.exec(
        select(MembershipBranch.membership_id, Branch.name).join(Branch, col(Branch.id) == MembershipBranch.branch_id)
    ).all()
    scopes: dict[uuid.UUID, list[str]] = {}
    for membership_id, name in rows:
        scopes.setdefault(membership_id, []).append(name)
    return scopes


def _check_assignable(ctx: TenantContext, role: str) -> None:
    if role not in STAFF_ROLES:
        raise ValidationFailed("Choose a role.", field="role")
    if role not in ASSIGNABLE_ROLES.get(ctx.role or "", ()):
        raise PermissionDenied(f"Your role ({ctx.role}) cannot give the {role} role.")


def _check_branches(session: Session, branch_ids: list[str]) -> list[uuid.UUID]:
    try:
        wanted = [uuid.UUID(b) for b in branch_ids]
    except ValueError:
        raise ValidationFailed("Unknown branch.", field="branches") from None
    known = dict(session.exec(select(Branch.id, Branch.is_active)).all())
    if not set(wanted) <= set(known):
        raise ValidationFailed("Unknown branch.", field="branches")
    if not all(known[b] for b in wanted):  # it takes no sales or stock: nobody new works there
        raise ValidationFailed("That branch is deactivated; choose an active one.", field="branches")
    return wanted


def invite(
    ctx: TenantContext, email: str, role: str, branch_ids: list[str] | None = None, *, send_email: bool = True
) -> InvitationCreated:
    """Invite someone with a role and an optional branch scope; e-mails the link (also returned)."""
    require(ctx, "staff.invite")
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise ValidationFailed("Enter a valid e-mail address.", field="email")
    _check_assignable(ctx, role)
    token = new_token()
    with tenant_session(ctx) as session:
        branches = _check_branches(session, branch_ids or [])
        already = session.exec(
            select(Membership.id).join(User, col(User.id) == Membership.user_id).where(User.email == email)
        ).first()
        if already:
            raise Conflict("This person is already a member of your chain.", field="email")
        pending = session.exec(
            select(Invitation.id).where(
                Invitation.email == email,
                col(Invitation.accepted_at).is_(None),
                col(Invitation.revoked_at).is_(None),
                col(Invitation.expires_at) > utc_now(),
            )
        ).first()
        if pending:
            raise Conflict("An invitation to this e-mail is already pending; revoke it first.", field="email")
        invitation = Invitation(
            tenant_id=ctx.tenant_id,
            email=email,
            role=role,
            branch_ids=branches,
            token_hash=token_hash(token),
            invited_by=ctx.user_id,
            expires_at=utc_now() + timedelta(days=get_settings().INVITATION_TTL_DAYS),
            token_encrypted=encrypt(INVITE_PURPOSE, token) if send_email else None,
        )
        session.add(invitation)
        session.flush()
        if send_email:
            enqueue_job(session, TenantContext.system(ctx.tenant_id), INVITE_JOB, invitation_id=str(invitation.id))
        record_audit(
            session,
            ctx.tenant_id,
            "staff.invited",
            actor_user_id=ctx.user_id,
            entity_type="invitation",
            entity_id=str(invitation.id),
            details={"role": role},
        )
    return InvitationCreated(str(invitation.id), f"{get_settings().APP_URL}/invite?token={token}")


def _status(inv_accepted: datetime | None, inv_revoked: datetime | None, expires: datetime) -> InvitationStatus:
    if inv_accepted:
        return InvitationStatus.ACCEPTED
    if inv_revoked:
        return InvitationStatus.REVOKED
    if expires <= utc_now():
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def list_invitations(ctx: TenantContext) -> list[PendingInvitation]:
    require(ctx, "staff.view")
    with tenant_session(ctx) as session:
        rows = session.exec(select(Invitation).order_by(col(Invitation.created_at).desc()).limit(50)).all()
        return [
            PendingInvitation(
                str(i.id), i.email, i.role, i.expires_at, _status(i.accepted_at, i.revoked_at, i.expires_at)
            )
            for i in rows
        ]


def revoke_invitation(ctx: TenantContext, invitation_id: str) -> None:
    require(ctx, "staff.invite")
    with tenant_session(ctx) as session:
        invitation = session.exec(select(Invitation).where(Invitation.id == uuid.UUID(invitation_id))).first()
        if invitation is None:
            raise NotFound("No such invitation.")
        if invitation.accepted_at:
            raise Conflict("That invitation was already accepted.")
        invitation.revoked_at = utc_now()
        session.add(invitation)
        record_audit(
            session,
            ctx.tenant_id,
            "staff.invitation_revoked",
            actor_user_id=ctx.user_id,
            entity_type="invitation",
            entity_id=invitation_id,
        )


def invitation_details(token: str) -> InvitationView | None:
    """What the invitation link shows before the person accepts (no tenant yet)."""
    if not token or len(token) > 200:
        return None
    row = auth_path.invitation_row(token_hash(token))
    if row is None:
        return None
    has_account = auth_path.user_id_by_email(row.email) is not None
    return InvitationView(
        row.tenant_name,
        row.email,
        row.role,
        _status(row.accepted_at, row.revoked_at, row.expires_at),
        has_account,
    )


def accept_invitation(token: str, *, full_name: str, password: str) -> tuple[str, str]:
    """Accept: create the user (or link the existing one, who proves it with their password).

    Returns (user_id, tenant_id). Runs on the platform path: it writes a global user row and a
    membership in a chain the person does not belong to yet.
    """
    with platform_session(reason="accept staff invitation", actor="invitee") as session:
        invitation = session.exec(
            select(Invitation).where(Invitation.token_hash == token_hash(token)).with_for_update()
        ).first()
        if invitation is None:
            raise NotFound("This invitation link is not valid.")
        status = _status(invitation.accepted_at, invitation.revoked_at, invitation.expires_at)
        if status != InvitationStatus.PENDING:  # checked under the row lock: two tabs cannot both accept
            raise Conflict(f"This invitation is {status}. Ask for a new one.")
        user = session.exec(select(User).where(User.email == invitation.email)).first()
        if user is None:
            if not full_name.strip():
                raise ValidationFailed("Enter your name.", field="full_name")
            check_password(password, email=invitation.email)
            user = User(email=invitation.email, full_name=full_name.strip(), password_hash=hash_password(password))
            session.add(user)
            session.flush()
        else:
            # The same progressive delays as the sign-in page, so a link cannot be used to guess.
            if wait := throttle.seconds_to_wait(invitation.email, ""):
                raise ValidationFailed(f"Too many attempts. Wait {wait} seconds and try again.", field="password")
            if not verify_password(user.password_hash, password):
                throttle.record_failure(invitation.email, "")
                raise ValidationFailed("That is not the password of your existing account.", field="password")
        existing = session.exec(
            select(Membership).where(Membership.tenant_id == invitation.tenant_id, Membership.user_id == user.id)
        ).first()
        if existing is None:
            membership = Membership(tenant_id=invitation.tenant_id, user_id=user.id, role=invitation.role)
            session.add(membership)
            session.flush()
            for branch_id in invitation.branch_ids:
                session.add(
                    MembershipBranch(tenant_id=invitation.tenant_id, membership_id=membership.id, branch_id=branch_id)
                )
        else:
            existing.role, existing.is_active = invitation.role, True
            session.add(existing)
        invitation.accepted_at = utc_now()
        session.add(invitation)
        record_audit(
            session,
            invitation.tenant_id,
            "staff.invitation_accepted",
            actor_user_id=user.id,
            entity_type="invitation",
            entity_id=str(invitation.id),
            details={"role": invitation.role},
        )
        return str(user.id), str(invitation.tenant_id)


def _membership(session: Session, membership_id: str) -> Membership:
    try:
        key = uuid.UUID(membership_id)
    except ValueError:
        raise NotFound("No such member.") from None
    membership = session.exec(select(Membership).where(Membership.id == key).with_for_update()).first()
    if membership is None:
        raise NotFound("No such member.")
    return membership


def _active_owners(session: Session) -> int:
    return len(session.exec(select(Membership.id).where(Membership.role == OWNER, col(Membership.is_active))).all())


def change_role(ctx: TenantContext, membership_id: str, role: str) -> None:
    """Give a member another role; the chain always keeps at least one active owner."""
    require(ctx, "staff.manage")
    _check_assignable(ctx, role)
    with tenant_session(ctx) as session:
        membership = _membership(session, membership_id)
        if membership.role == OWNER and ctx.role != OWNER:
            raise PermissionDenied("Only an owner can change an owner's role.")
        if membership.role == OWNER and role != OWNER and _active_owners(session) <= 1:
            raise Conflict("The chain needs at least one owner; make someone else owner first.")
        before = membership.role
        membership.role = role
        session.add(membership)
        record_audit(
            session,
            ctx.tenant_id,
            "staff.role_changed",
            actor_user_id=ctx.user_id,
            entity_type="membership",
            entity_id=membership_id,
            details={"from": before, "to": role},
        )


def set_active(ctx: TenantContext, membership_id: str, active: bool) -> None:
    """Deactivate (their sessions in this chain end at once) or reactivate a member."""
    require(ctx, "staff.manage")
    with tenant_session(ctx) as session:
        membership = _membership(session, membership_id)
        if membership.user_id == ctx.user_id:
            raise Conflict("You cannot deactivate yourself.")
        if membership.role == OWNER and ctx.role != OWNER:
            raise PermissionDenied("Only an owner can deactivate an owner.")
        if not active and membership.role == OWNER and _active_owners(session) <= 1:
            raise Conflict("The chain needs at least one active owner.")
        membership.is_active = active
        session.add(membership)
        session.flush()
        if not active:
            session.execute(text("SELECT sessions_end_for_member(:u)"), {"u": membership.user_id})
        record_audit(
            session,
            ctx.tenant_id,
            "staff.activated" if active else "staff.deactivated",
            actor_user_id=ctx.user_id,
            entity_type="membership",
            entity_id=membership_id,
        )


def send_invitation_mail(session: Session, ctx: TenantContext, *, invitation_id: str) -> None:
    """Job: e-mail the invitation link once, then forget the token (only its hash remains)."""
    invitation = session.exec(
        select(Invitation).where(Invitation.id == uuid.UUID(invitation_id)).with_for_update()
    ).first()
    if invitation is None or invitation.mailed_at or not invitation.token_encrypted:
        return
    if _status(invitation.accepted_at, invitation.revoked_at, invitation.expires_at) != InvitationStatus.PENDING:
        return
    token = decrypt(INVITE_PURPOSE, invitation.token_encrypted)
    if token is None:
        return
    chain = session.execute(text("SELECT name FROM tenants")).scalar_one()
    send_mail(
        invitation.email,
        f"You are invited to {chain} on Pharmacy Cloud",
        f"You have been invited to join {chain} as {invitation.role}.\n\nAccept the invitation here:\n"
        f"{get_settings().APP_URL}/invite?token={token}\n\nThe link works until "
        f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n",
    )
    invitation.mailed_at, invitation.token_encrypted = utc_now(), None
    session.add(invitation)


def branch_mail_recipients(session: Session, branch_id: uuid.UUID, roles: tuple[str, ...]) -> list[str]:
    """E-mail addresses of the chain's active members in `roles` who work at `branch_id`: owners always, other
    roles when not limited to branches or limited to branches including this one (scheduled staff mails)."""
    rows = session.execute(
        text(
            "SELECT DISTINCT u.email FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.is_active AND u.is_active AND m.role = ANY(:roles) AND ("
            "  m.role = :owner"
            "  OR NOT EXISTS (SELECT 1 FROM membership_branches mb WHERE mb.membership_id = m.id)"
            "  OR EXISTS (SELECT 1 FROM membership_branches mb WHERE mb.membership_id = m.id AND mb.branch_id = :b)) "
            "ORDER BY u.email"
        ),
        {"roles": list(roles), "owner": OWNER, "b": branch_id},
    )
    return [row[0] for row in rows]
