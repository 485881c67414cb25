"""The `pharmacy-saas` command: migrations, demo data, worker, relay and operator tools."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer

from backend.clinical.cli import dur_app
from backend.core.errors import PharmacyError
from backend.core.logging import configure_logging
from backend.core.settings import get_settings
from backend.interactions.cli import interactions_app
from backend.ocr.cli import ocr_command

app = typer.Typer(help="Pharmacy SaaS operator commands.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema and roles.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
tenants_app = typer.Typer(help="Pharmacy chains (tenants).", no_args_is_help=True)
schedule_app = typer.Typer(help="Scheduled jobs (digests, the retention review).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(tenants_app, name="tenants")
app.add_typer(schedule_app, name="schedule")
app.add_typer(interactions_app, name="interactions")
app.add_typer(dur_app, name="dur")
app.command("ocr")(ocr_command)


def clear_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Known failures print one line saying what to fix, not a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PharmacyError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


@app.callback()
def _setup() -> None:
    settings = get_settings()
    configure_logging(f"{settings.SERVICE_NAME}-cli", settings.LOG_LEVEL, json_lines=settings.LOG_JSON)


@db_app.command("upgrade")
@clear_errors
def db_upgrade() -> None:
    """Create the app and platform roles and apply all migrations (safe to re-run)."""
    from backend.core import dbadmin

    dbadmin.upgrade()
    typer.echo("database is up to date")


@demo_app.command("seed")
@clear_errors
def demo_seed(
    force: bool = typer.Option(False, help="Seed even if chains exist."),
    tenants: int = typer.Option(0, help="Instead of the demo chain: this many synthetic chains (load tests)."),
    medicines: int = typer.Option(2000, help="With --tenants: medicines per chain."),
    branches: int = typer.Option(2, help="With --tenants: branches per chain."),
    lots: int = typer.Option(1, help="With --tenants: batches per medicine per branch."),
    movements_per_batch: int = typer.Option(5, help="With --tenants: ledger rows per batch (receipt, sales, ...)."),
    slug_prefix: str = typer.Option("scale", help="With --tenants: chains are named PREFIX-00001, ..."),
    workers: int = typer.Option(2, help="With --tenants: connections loading at once."),
    keep_indexes: bool = typer.Option(
        False,
        help="With --tenants: keep foreign keys and secondary indexes of batches and stock_movements "
        "during the load (slower; by default they are rebuilt after it, for a dedicated load-test database).",
    ),
) -> None:
    """Create the demo pharmacy chain when the database has none, or (--tenants N) synthetic chains at scale."""
    if tenants:
        from backend.demo.scale import ScaleSpec, seed_scale

        spec = ScaleSpec(
            tenants=tenants,
            medicines=medicines,
            branches=branches,
            lots=lots,
            movements_per_batch=movements_per_batch,
            slug_prefix=slug_prefix,
        )
        movements = tenants * medicines * branches * lots * movements_per_batch
        typer.echo(f"seeding {tenants:,} chains x {medicines:,} medicines, {movements:,} stock movements ...")
        result = seed_scale(spec, progress=typer.echo, workers=workers, bulk_window=not keep_indexes, analyze=True)
        typer.echo(
            f"done in {result.seconds:.1f} s: {len(result.tenant_ids):,} chains, {result.branches:,} branches, "
            f"{result.medicines:,} medicines, {result.batches:,} batches, {result.movements:,} stock movements"
        )
        return
    from backend.demo.seed import seed_demo

    typer.echo("seeding the demo chain: 3 branches, about 300 medicines, 400 days of trading ...")
    created = seed_demo(only_if_empty=not force)
    if created is None:
        typer.echo("demo seed skipped: the database already has pharmacy chains")
        return
    counts = created.counts
    typer.echo(
        f"demo chain created in {created.seconds:.1f} s: {created.tenant.slug} ({created.tenant.tenant_id}), "
        f"{counts['medicines']:,} medicines, {counts['bills']:,} bills, {counts['credit_notes']:,} credit notes, "
        f"{counts['claims']:,} claims, {counts['stock_movements']:,} stock movements"
    )
    _print_sign_ins()


@demo_app.command("sign-ins")
@clear_errors
def demo_sign_ins_command() -> None:
    """Print the demo chain's sign-ins (one member per role; `make run` shows them)."""
    _print_sign_ins()


def _print_sign_ins() -> None:
    from backend.demo.seed import demo_sign_ins

    sign_ins = demo_sign_ins()
    typer.echo(f"  Demo sign-ins (every member's password: {sign_ins[0].password}):")
    for sign_in in sign_ins:
        branches = "all branches" if sign_in.branches == "all" else f"branch {sign_in.branches}"
        typer.echo(f"    {sign_in.role:11} {sign_in.email:36} {sign_in.name:14} {branches}")


@tenants_app.command("list")
@clear_errors
def tenants_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every pharmacy chain (platform path, audited)."""
    from backend.platform.service import list_tenants

    tenants = list_tenants(actor="cli", reason="cli: tenants list")
    if as_json:
        typer.echo(json.dumps([t.__dict__ for t in tenants], default=str))
        return
    for t in tenants:
        typer.echo(f"{t.slug:30} {t.status:10} {t.plan:10} {t.branches:3} branches  {t.name}")


platform_app = typer.Typer(help="Platform (super-admin) accounts.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")


@platform_app.command("create-admin")
@clear_errors
def create_admin(
    email: str = typer.Option(..., help="The admin's e-mail."),
    name: str = typer.Option("", help="Full name."),
) -> None:
    """Create (or reset) a platform admin with a new password and TOTP; prints both once."""
    import secrets

    from backend.platform.service import create_platform_admin

    admin = create_platform_admin(email, name, secrets.token_urlsafe(12) + "-Aa1")
    typer.echo(
        f"platform admin: {admin.email}\npassword (shown once): {admin.password}\n"
        f"TOTP key (add to an authenticator app): {admin.totp_secret}\notpauth URI: {admin.otpauth_uri}"
    )


inventory_app = typer.Typer(help="Stock and the ledger.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")


@inventory_app.command("reconcile")
@clear_errors
def inventory_reconcile(tenant: str = typer.Option("", help="A chain's slug (default: every chain).")) -> None:
    """Check that every batch's on-hand equals the sum of its movements; exit 1 on any difference."""
    from backend.inventory.service import reconcile

    differences = reconcile(tenant_slug=tenant or None)
    for d in differences:
        typer.echo(f"{d.tenant_slug}: batch {d.batch_id} lot {d.lot_number}: on hand {d.on_hand}, ledger {d.ledger}")
    if differences:
        raise typer.Exit(code=1)
    typer.echo("ledger matches on-hand for every batch")


prescriptions_app = typer.Typer(help="Prescriptions.", no_args_is_help=True)
app.add_typer(prescriptions_app, name="prescriptions")


@prescriptions_app.command("auto-refill")
@clear_errors
def prescriptions_auto_refill(
    tenant: str = typer.Option("", help="A chain's slug (default: every active chain)."),
) -> None:
    """Queue the auto-refill job (run it daily, e.g. from cron): the worker fills each auto-refill prescription
    that is due, or records a renewal request to the prescriber."""
    import uuid

    from backend.platform.service import list_tenants
    from backend.prescriptions.refills import queue_auto_refills
    from tenants.context import TenantContext
    from tenants.session import run_in_tenant

    chains = [t for t in list_tenants(actor="cli", reason="cli: auto-refill") if t.status == "active"]
    for chain in chains:
        if tenant and chain.slug != tenant:
            continue
        run_in_tenant(TenantContext.system(uuid.UUID(chain.id)), queue_auto_refills)
        typer.echo(f"{chain.slug}: auto-refill queued")


retention_app = typer.Typer(help="Records retention (docs/retention.md).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.command("review")
@clear_errors
def retention_review(
    tenant: str = typer.Option("", help="A chain's slug (default: every active chain)."),
    now: bool = typer.Option(False, "--now", help="Run the review here instead of queueing the job."),
) -> None:
    """List what is due for disposal into a batch for each chain's owner to approve (run it monthly, e.g. from
    cron). Disposes of nothing: the owner approves the batch, signed, on /settings/retention."""
    import uuid

    from backend.job_handlers import register_job_handlers
    from backend.platform.service import list_tenants
    from backend.retention.service import patients_text, queue_review, review_disposals
    from tenants.context import TenantContext
    from tenants.session import run_in_tenant

    register_job_handlers()  # the outbox refuses a job no handler is registered for
    chains = [t for t in list_tenants(actor="cli", reason="cli: retention review") if t.status == "active"]
    for chain in chains:
        if tenant and chain.slug != tenant:
            continue
        ctx = TenantContext.system(uuid.UUID(chain.id))
        if now:
            batch = run_in_tenant(ctx, review_disposals)
            due = patients_text(batch.item_count)
            typer.echo(f"{chain.slug}: {due} due for disposal, awaiting the owner's approval")
        else:
            run_in_tenant(ctx, queue_review)
            typer.echo(f"{chain.slug}: retention review queued")


audit_app = typer.Typer(help="The financial audit chains and the audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@clear_errors
def audit_verify(tenant: str = typer.Option(..., help="The chain's slug.")) -> None:
    """Check every branch's financial hash chain and the audit log of one chain; exit 1 at the first
    broken link of any of them (an edited, deleted or re-linked row)."""
    from backend.billing.audit_chain import verify_chains

    report = verify_chains(tenant)
    for chain in report.chains:
        if chain.broken:
            typer.echo(
                f"{tenant}: branch {chain.branch_code} ({chain.branch_id}): first broken link at seq "
                f"{chain.broken.seq}: {chain.broken.problem}"
            )
    if report.audit_log_broken_seq is not None:
        typer.echo(f"{tenant}: audit log: first broken link at seq {report.audit_log_broken_seq}")
    if not report.intact:
        raise typer.Exit(code=1)
    typer.echo(
        f"all {len(report.chains)} chains intact ({report.events} events); "
        f"audit log intact ({report.audit_log_events} events)"
    )


keys_app = typer.Typer(help="Field encryption keys (issue 16).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("rotate")
@clear_errors
def keys_rotate(
    tenant: str = typer.Option("", help="A chain's slug (default: every chain)."),
    reencrypt: bool = typer.Option(False, "--reencrypt", help="Also move every value to a new data key."),
    batch: int = typer.Option(500, min=1, max=10_000, help="Rows per transaction when re-encrypting."),
) -> None:
    """Re-wrap the chains' data keys under DATA_ENCRYPTION_KEY (keep the old master key in
    DATA_ENCRYPTION_KEYS_PREVIOUS until this has run); with --reencrypt, move the values to a new data key
    in batches while the app serves. Safe to interrupt and run again: it resumes."""
    import uuid

    from backend.platform.service import list_tenants
    from backend.protection.rotation import rotate_chain

    chains = [t for t in list_tenants(actor="cli", reason="cli: keys rotate") if not tenant or t.slug == tenant]
    if tenant and not chains:
        raise typer.BadParameter(f"no chain with the slug {tenant!r}", param_hint="--tenant")
    for chain in chains:
        done = rotate_chain(uuid.UUID(chain.id), reencrypt=reencrypt, batch=batch)
        said = f"{chain.slug}: {done.rewrapped} key(s) re-wrapped"
        if reencrypt:
            said += f"; {done.values_resealed} value(s) now under data key v{done.version}"
            said += f", retired v{', v'.join(map(str, done.retired))}" if done.retired else ", still moving: run again"
        typer.echo(said)


@app.command("worker")
@clear_errors
def worker(
    queues: str = typer.Option("", help="Comma-separated queues (default: RQ_QUEUES)."),
    burst: bool = typer.Option(False, help="Exit when the queues are empty."),
    simple: bool = typer.Option(False, help="Run jobs in-process (no fork per job)."),
    name: str = typer.Option(
        "",
        help="A stable name, one per process slot (e.g. host-worker-1): restarted under the same name, "
        "the worker retries at once the jobs its previous process was running when it died.",
    ),
    scheduler: bool | None = typer.Option(
        None,
        "--scheduler/--no-scheduler",
        help="Run RQ's scheduler in a child process (retries at intervals, delayed jobs). Default: on when the "
        "worker listens on the notifications queue. `make run` runs one `pharmacy-saas scheduler` instead.",
    ),
) -> None:
    """Run an RQ worker (with RQ's scheduler) for the outbox jobs and the notifications queue."""
    from backend.core.queue import RedactingSimpleWorker, RedactingWorker, check_redis, job_queue, redis_connection
    from backend.job_handlers import register_job_handlers
    from backend.jobs.recovery import reclaim_abandoned_jobs
    from backend.notifications.delivery import NOTIFICATIONS_QUEUE
    from backend.prescriptions.originals import OCR_QUEUE
    from backend.schedules.runner import TICK_QUEUE, schedule_next_tick

    settings = get_settings()
    configure_logging(f"{settings.SERVICE_NAME}-worker", settings.LOG_LEVEL, json_lines=settings.LOG_JSON)
    connection = redis_connection()
    check_redis(connection)
    names = [q for q in queues.split(",") if q] or get_settings().queue_names()
    # An OCR worker runs its jobs in-process: the models stay loaded between jobs, and onnxruntime's
    # thread pools do not survive a fork into a work-horse. A crash costs the one job (RQ retries it
    # when the supervisor restarts the worker under its name).
    # Redacting: a failed job's stored traceback carries no patient identifier (issue 16).
    worker_class = RedactingSimpleWorker if simple or OCR_QUEUE in names else RedactingWorker
    # Once here, before any fork: every work-horse then starts with the handlers loaded instead of
    # importing them again (over a second of CPU per job).
    register_job_handlers()
    if OCR_QUEUE in names:
        # The OCR models and the drug dictionary load here, once per worker, not per job.
        from backend.ocr.pipeline import warm_up

        warm_up()
    if name:
        reclaim_abandoned_jobs(connection, name)
    if TICK_QUEUE in names:
        # The scheduled-jobs tick: this worker's RQ scheduler runs it every few minutes (one entry per slot,
        # however many workers schedule it; backend/schedules/runner.py).
        schedule_next_tick(connection)
    rq_worker = worker_class(
        [job_queue(queue, connection) for queue in names],
        connection=connection,
        serializer=job_queue(names[0], connection).serializer,
        name=name or None,
    )
    # With RQ's scheduler: retries at intervals (the notifications queue's growing waits) and jobs enqueued for
    # later are moved to their queue by it. One scheduler per queue holds the lock; the others stand by.
    with_scheduler = NOTIFICATIONS_QUEUE in names if scheduler is None else scheduler
    rq_worker.work(burst=burst, logging_level=get_settings().LOG_LEVEL, with_scheduler=with_scheduler)


@app.command("scheduler")
@clear_errors
def scheduler_command(
    queues: str = typer.Option("", help="Comma-separated queues (default: RQ_QUEUES)."),
) -> None:
    """Run RQ's scheduler in this process: it moves retries and delayed jobs (the notifications queue's
    growing intervals) to their queues when due. Run one next to workers started with --no-scheduler."""
    from rq.scheduler import RQScheduler

    from backend.core.queue import check_redis, job_queue, redis_connection

    settings = get_settings()
    configure_logging(f"{settings.SERVICE_NAME}-scheduler", settings.LOG_LEVEL, json_lines=settings.LOG_JSON)
    connection = redis_connection()
    check_redis(connection)
    names = [q for q in queues.split(",") if q] or settings.queue_names()
    rq_scheduler = RQScheduler(
        [job_queue(q, connection) for q in names], connection=connection,
        serializer=job_queue(names[0], connection).serializer,
    )  # fmt: skip
    rq_scheduler.acquire_locks()
    rq_scheduler.work()


@schedule_app.command("tick")
@clear_errors
def schedule_tick(
    now: str = typer.Option("", help="Pretend the time is this ISO instant (with an offset, e.g. 2026-12-05T15:00Z)."),
) -> None:
    """Write what is due for every active chain (each job once per branch and local date or month)."""
    from datetime import datetime

    from backend.core.errors import ValidationFailed
    from backend.job_handlers import register_job_handlers
    from backend.schedules.service import tick

    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(f"--now {now!r} is not an ISO time such as 2026-12-05T15:00:00+00:00") from None
        if moment.tzinfo is None:
            raise ValidationFailed("--now needs an offset (Z or +00:00): times are UTC")
    register_job_handlers()
    result = tick(moment)
    for run in result.written:
        typer.echo(f"{run.job_name} {run.branch_id or 'chain'} {run.period} due {run.due_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(f"{len(result.written)} jobs written for {result.chains} chains")
    if result.failed_chains:
        typer.echo(f"failed for {len(result.failed_chains)} chains (see the log): {', '.join(result.failed_chains)}")
        raise typer.Exit(1)


@app.command("relay")
@clear_errors
def relay(interval: float = typer.Option(0.5, help="Seconds between polls when idle.")) -> None:
    """Move committed outbox rows to RQ, forever."""
    from backend.core.database import app_engine, check_database
    from backend.core.queue import redis_connection
    from backend.jobs.service import relay_forever

    settings = get_settings()
    configure_logging(f"{settings.SERVICE_NAME}-relay", settings.LOG_LEVEL, json_lines=settings.LOG_JSON)
    check_database(app_engine())
    logging.getLogger(__name__).info("relay started")
    relay_forever(redis_connection(), interval=interval)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
