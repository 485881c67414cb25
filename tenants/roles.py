"""Roles and the permission matrix: the one place that says who may do what.

Every Reflex event handler, REST endpoint, CLI command and job declares a permission from
PERMISSIONS and checks it on the server with `require()`; a browser never says what it may do.
"""

from __future__ import annotations

from backend.core.errors import AuthenticationRequired, PermissionDenied
from tenants.context import TenantContext

OWNER, MANAGER, PHARMACIST, TECHNICIAN, CASHIER = (
    "owner",
    "manager",
    "pharmacist",
    "technician",
    "cashier",
)
STAFF_ROLES = (OWNER, MANAGER, PHARMACIST, TECHNICIAN, CASHIER)
SYSTEM = "system"  # background work done on a tenant's behalf
SUPPORT = "support"  # a platform admin with time-limited, audited, read-only access to one chain
PLATFORM_ADMIN = "platform-admin"  # the super-admin console, never inside a chain
# The public refill portal (issue 17): never a staff member, never a user id.
PORTAL = "portal"  # anyone on a chain's portal, before proving who they are
CUSTOMER = "customer"  # a customer who proved who they are by a one-time code: one patient of one chain
PORTAL_INTAKE = "portal-intake"  # a verified customer's photo received at a branch (built only by the portal)
# API tokens act with the role of their widest scope.
API_READ, API_WRITE, API_ADMIN = "api-read", "api-write", "api-admin"
API_SCOPES = {"read": API_READ, "write": API_WRITE, "admin": API_ADMIN}

ALL_STAFF = frozenset(STAFF_ROLES)
MANAGERS = frozenset({OWNER, MANAGER})
CLINICAL = frozenset({OWNER, MANAGER, PHARMACIST, TECHNICIAN})  # everyone but the cashier
API_ANY = frozenset({API_READ, API_WRITE, API_ADMIN})

# Who may grant which role: a manager runs the staff but cannot make owners.
ASSIGNABLE_ROLES: dict[str, tuple[str, ...]] = {
    OWNER: STAFF_ROLES,
    MANAGER: (MANAGER, PHARMACIST, TECHNICIAN, CASHIER),
}

# permission -> roles that hold it. Grow this table as features land; never check roles elsewhere.
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard.view": ALL_STAFF | {SUPPORT},
    # the state of the database, Redis and the workers: the owner's and the platform's concern, not a till's
    "health.view": frozenset({OWNER, SUPPORT}),
    "account.self": ALL_STAFF,  # own sessions, switching chains, signing out everywhere
    "branches.view": ALL_STAFF | API_ANY | {SUPPORT},
    # adding, editing, deactivating branches: their tax settings price every sale, so the owner's call
    "branches.manage": frozenset({OWNER, API_ADMIN}),
    "staff.view": MANAGERS | {API_ADMIN, SUPPORT},
    "staff.invite": MANAGERS,
    "staff.manage": MANAGERS,
    "tokens.manage": frozenset({OWNER}),
    "tenant.settings": frozenset({OWNER}),
    "audit.view": MANAGERS | {SUPPORT},
    "jobs.enqueue": frozenset({OWNER, MANAGER, PHARMACIST, SYSTEM}),
    # scheduled jobs (issue 18 §4): the tick writes what is due as the system; owners and managers see the list
    "schedules.run": frozenset({SYSTEM}),
    "schedules.view": MANAGERS,
    "api.me": API_ANY,
    # inventory
    # SYSTEM: the daily expiry and low-stock digest (a scheduled job) reads one branch's alerts
    "inventory.view": ALL_STAFF | API_ANY | {SUPPORT, SYSTEM},
    "inventory.dispense": ALL_STAFF | {API_WRITE, API_ADMIN, SYSTEM},
    "inventory.receive": frozenset({OWNER, MANAGER, PHARMACIST, TECHNICIAN, API_WRITE, API_ADMIN}),
    "inventory.adjust": frozenset({OWNER, MANAGER, PHARMACIST, API_ADMIN}),
    "inventory.catalog": frozenset({OWNER, MANAGER, PHARMACIST, API_ADMIN}),
    "inventory.recall": frozenset({OWNER, MANAGER, PHARMACIST}),
    "inventory.transfer": frozenset({OWNER, MANAGER, PHARMACIST, TECHNICIAN, API_WRITE, API_ADMIN}),
    "inventory.purchase": frozenset({OWNER, MANAGER, PHARMACIST}),
    # reorder points and quantities (manual, or automatic from forecasts, which run as SYSTEM)
    "inventory.reorder": frozenset({OWNER, MANAGER, PHARMACIST, API_ADMIN, SYSTEM}),
    # billing (point of sale)
    "billing.view": ALL_STAFF | API_ANY | {SUPPORT},
    "billing.sell": ALL_STAFF | {API_WRITE, API_ADMIN},  # drafts, finalize, payments, discarding a draft
    "billing.void": MANAGERS | {API_ADMIN},  # voiding an issued bill (its stock goes back on the shelf)
    # refunding a paid bill with a credit note: money leaves the till, so not a cashier's call
    "billing.refund": frozenset({OWNER, MANAGER, PHARMACIST, API_ADMIN}),
    # Supplying a prescription-only medicine without a prescription reference: a pharmacist's
    # signed, audited decision; never an API token's.
    "billing.override_prescription": frozenset({PHARMACIST}),
    # insurance claims: payers, coverage, claims and their responses (reading them is billing.view)
    "claims.manage": frozenset({OWNER, MANAGER, PHARMACIST, API_ADMIN}),
    # an electronic signature: the member re-enters their password or a TOTP code to sign one record
    "signatures.sign": ALL_STAFF | {API_WRITE, API_ADMIN},
    # reports: sales, margin and cost are the chain's business figures, not every till's
    "reports.view": frozenset({OWNER, MANAGER, PHARMACIST, SUPPORT}) | API_ANY,
    # patients: the counter finds and links a patient by name and date of birth; the record (contact
    # details, allergies, notes) is for the people who dispense. Never platform support: health data.
    # SYSTEM: a patient message job finds the address; PORTAL_INTAKE: a verified customer's upload
    "patients.lookup": ALL_STAFF | API_ANY | {SYSTEM, PORTAL_INTAKE},
    "patients.view": CLINICAL | {API_ADMIN, PORTAL_INTAKE},
    "patients.edit": CLINICAL | {API_ADMIN},
    "patients.audit": MANAGERS,  # the access log: who opened which record
    # patient messages, the minimum necessary (issue 16): the owner allows the medicine's name per message
    # kind; writing a message for a patient (notifications, as the system) reads that and the patient's consent
    "messages.disclosure": frozenset({OWNER}),
    "patients.message": CLINICAL | {SYSTEM},
    # the wording of patient messages and the chain's quiet hours (issue 18 §2): the owner's, like disclosure
    "messages.templates": frozenset({OWNER}),
    # the delivery log of e-mails and texts (issue 18 §3): kind, channel, masked recipient, status, never the
    # body; resending a failed one is a new attempt of the same message, audited
    "notifications.view": MANAGERS | {API_ADMIN},
    "notifications.resend": MANAGERS | {API_ADMIN},
    # staff e-mails on the notifications queue (a recall's note to the branches): written by background work only
    "notifications.staff_message": frozenset({SYSTEM}),
    # the chain's own channels (issue 18 §1): its SMTP server, SMS provider, webhook and their secrets, and a
    # test send on each: the owner's call, like API tokens
    "notifications.channels": frozenset({OWNER}),
    # queueing a webhook event (a test, a digest, a recall) for the chain's webhook, from any domain
    "notifications.webhook": ALL_STAFF | {SYSTEM},
    # drug-use review without storing anything (POST /api/v1/dur/check): the body is a patient's medicines
    # and allergies, so the people who dispense and API tokens, not the till or platform support
    "dur.check": CLINICAL | API_ANY,
    # prescriptions (issue 13): the queue and records are health data (not the till, not platform support);
    # technicians receive and type them in; only a pharmacist verifies, and a verification is a signed act
    # of a person, so no API token verifies either.
    "prescriptions.view": CLINICAL | {API_ADMIN, SYSTEM},
    # intake, data entry, holds, waiting for the prescriber (PORTAL_INTAKE: a verified customer's photo, intake only)
    "prescriptions.enter": CLINICAL | {API_ADMIN, PORTAL_INTAKE},
    "prescriptions.verify": frozenset({PHARMACIST}),  # verification with DUR, overrides, return to entry
    "prescriptions.cancel": frozenset({OWNER, MANAGER, PHARMACIST, API_ADMIN}),
    # issue 14: technicians fill (stock leaves the shelf through inventory's FEFO dispense) and print the
    # label; the final check against the stock bottle is a pharmacist's
    # (SYSTEM: the auto-refill job fills the refills that are due)
    "prescriptions.fill": CLINICAL | {API_ADMIN, SYSTEM},
    "prescriptions.check": frozenset({PHARMACIST}),
    # issue 14: a supply without a prescription is the pharmacist's own signed record (never the cashier's);
    # an admin token may send one only with a pharmacist's fresh signature of it
    "prescriptions.emergency_supply": frozenset({PHARMACIST, API_ADMIN}),
    # issue 14: the recall trace lists who received a lot, with their contact details: the pharmacist and
    # the owner act on a recall (REST is token-only, so an admin token too); each patient listed is
    # written to the access log
    "prescriptions.recall_trace": frozenset({OWNER, PHARMACIST, API_ADMIN}),
    # issue 18 §6: "notify everyone who received this lot" sends the recall message to the trace's patients
    # and the branches' staff; the people who may see the trace start it (its report lists the patients)
    "prescriptions.recall_notify": frozenset({OWNER, PHARMACIST}),
    # controlled substances (issue 14, section 5): the register, biennial inventory, CII orders, theft or loss
    # reports and the PMP export are the pharmacist's and the owner's (the registrant's) records, not the
    # till's; admin tokens read them (the PMP file names patients)
    "controlled.view": frozenset({OWNER, PHARMACIST, API_ADMIN}),
    "controlled.record": frozenset({OWNER, PHARMACIST}),  # counts, orders, receipts, losses, registration
    "controlled.sign": frozenset({PHARMACIST}),  # the signed biennial inventory is a pharmacist's act
    # pickup at the counter: whoever sells hands a checked fill over (scanning its label puts it on the
    # bill); the offer to counsel is answered to a pharmacist, who signs it (a cashier cannot counsel)
    "prescriptions.pickup": ALL_STAFF | {API_WRITE, API_ADMIN},
    "prescriptions.counsel": frozenset({PHARMACIST}),
    # a refill request (staff, the patient's call, the portal, auto-refill): a fill if one is due, else a
    # renewal request to the prescriber
    "prescriptions.refill": CLINICAL | {API_ADMIN, SYSTEM},
    # a transfer is a pharmacist-to-pharmacist communication the regulations name the pharmacists of, and a
    # return to stock puts dispensed units back on the shelf: both a pharmacist's act, never a token's
    "prescriptions.transfer": frozenset({PHARMACIST}),
    # the prescriber's answer to a renewal request (a new prescription, or a refusal): taken by a pharmacist, or
    # posted by the e-prescribing integration (an admin token); a new prescription is verified by a pharmacist
    "prescriptions.renew": frozenset({PHARMACIST, API_ADMIN}),
    "prescriptions.return": frozenset({PHARMACIST}),
    "prescribers.view": CLINICAL | API_ANY,
    "prescribers.manage": CLINICAL | {API_WRITE, API_ADMIN},
    # the assistant: asking at all; each of its tools also needs the permission of the data it reads
    "assistant.use": ALL_STAFF,
    # the chain's SOPs, FAQs and policies the assistant quotes
    "assistant.documents": frozenset({OWNER, MANAGER}),
    # records retention (issue 16, section 3): how long records are kept and their disposal are the owner's
    # decisions (the owner answers to the regulators); the monthly review also runs as SYSTEM from the schedule.
    # disposal is signed by the owner, never a token's; not platform support (it lists patients)
    "retention.view": frozenset({OWNER}),
    "retention.manage": frozenset({OWNER}),  # the periods
    # legal holds, listed, placed and released: also an admin token (a legal department's system)
    "retention.hold": frozenset({OWNER, API_ADMIN}),
    "retention.review": frozenset({OWNER, SYSTEM}),  # listing what is due into a batch
    "retention.dispose": frozenset({OWNER}),  # approving a batch with the owner's signature
    "platform.console": frozenset({PLATFORM_ADMIN}),
    # issue 16: a patient's own copy of everything the chain holds about them (HIPAA right of access):
    # the owner produces it and records its delivery; an admin token may fetch it for the owner's portal
    "patients.copy": frozenset({OWNER, API_ADMIN}),
    # field encryption (issue 16): re-wrapping a chain's keys and re-encrypting its values is operator work,
    # run by `pharmacy-saas keys rotate` on the chain's behalf, never from a screen or a token
    "keys.rotate": frozenset({SYSTEM}),
    # the public portal: the chain's branches, hours and contact (what its front door shows anyone)
    "portal.view": frozenset({PORTAL, CUSTOMER}),
    # whether an Rx number, date of birth and last name name one prescription of the chain (the answer
    # never leaves the server: the portal's reply is the same either way)
    "portal.match": frozenset({PORTAL, CUSTOMER}),
    # asking for a refill of a named (matched) prescription: a row in the staff queue, never a fill
    "portal.request": frozenset({PORTAL, CUSTOMER}),
    # the staff queue of portal refill requests: listing, accepting (the fill also needs prescriptions.refill),
    # denying with a reason, closing after a call; the people who dispense, not the till
    "portal.queue": CLINICAL | {API_ADMIN},
    # the portal's assistant (branches, drug information, OTC interactions); its own-refills tool is CUSTOMER only
    "portal.assistant": frozenset({PORTAL, CUSTOMER}),
    "portal.own_refills": frozenset({CUSTOMER}),
    # rating the visit at which a verified customer picked up a fill of theirs (issue 17 §6)
    "portal.feedback": frozenset({CUSTOMER}),
    # the "stop messages" link of a patient message (issue 18 §2): whoever holds the link's code
    "portal.optout": frozenset({PORTAL, CUSTOMER}),
    # the customers' ratings and comments per branch (a manager: their branches), and marking an alert seen
    "feedback.view": MANAGERS,
    # a verified customer (TenantContext.patient_id): their own prescriptions, requests, reminders, uploads
    "portal.customer": frozenset({CUSTOMER}),
    # the owner's soft alert when a chain's portal gets unusually many requests in an hour (never a hard limit)
    "portal.alerts": frozenset({OWNER}),
}


def api_role(scopes: list[str] | tuple[str, ...]) -> str:
    """The role an API token acts with: its widest scope."""
    for scope in ("admin", "write", "read"):
        if scope in scopes:
            return API_SCOPES[scope]
    raise ValueError("a token needs at least one scope")


def role_has(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")
    return role is not None and role in PERMISSIONS[permission]


def require(ctx: TenantContext | None, permission: str) -> TenantContext:
    """Refuse unless the context's role holds `permission`; returns the context for chaining."""
    if ctx is None or ctx.role is None:
        raise AuthenticationRequired("Please sign in.")
    if not role_has(ctx.role, permission):
        raise PermissionDenied(f"Your role ({ctx.role}) may not do this ({permission}).")
    return ctx
