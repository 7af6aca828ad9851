"""The `portal` command: migrate, serve, demo, worker, audit verify and account administration."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from urllib.parse import urlparse

import click

from portal.core.actor import Actor
from portal.core.settings import SettingsError, get_settings

CLI_ACTOR = Actor.system("cli")
log = logging.getLogger("portal.cli")


def _run(coroutine):
    return asyncio.run(coroutine)


async def _with_db(coroutine):
    from portal.core.db import close_pool, start_pool

    opened = await start_pool()
    try:
        return await coroutine
    finally:
        if opened:
            await close_pool()


@click.group()
def main() -> None:
    """Partner portal for children's online safety."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


async def apply_migrations() -> None:
    """Apply every feature's migrations in dependency order, and prepare file storage."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from portal.core.storage import S3Storage, get_storage

    result = await run_forwards(app_name="all")
    if not result.success:
        raise click.ClickException(f"migrations failed: {result.message}")
    storage = get_storage()
    if isinstance(storage, S3Storage):
        await asyncio.to_thread(storage.ensure_bucket)
    await storage.check()


@main.command()
def migrate() -> None:
    """Apply database migrations to PORTAL_DATABASE_URL."""
    _run(apply_migrations())
    click.echo("Migrations applied.")


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run("portal.app:create_app", factory=True, host=host, port=port, workers=workers, proxy_headers=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Web processes (PostgreSQL only for more than one).")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal over HTTP."""
    if workers > 1 and not get_settings().is_postgres:
        raise click.ClickException("several web processes need PostgreSQL (PORTAL_DATABASE_URL=postgresql://...)")
    _serve(host, port, workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo data and stop.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Migrate, load the demo organisations and accounts (idempotent), print them, and serve."""
    from portal.demo import DEMO_PASSWORD, load_demo

    if not os.environ.get("PORTAL_BASE_URL"):
        # Links in mail and the sign-on callback point at the address being served.
        os.environ["PORTAL_BASE_URL"] = f"http://{host}:{port}"
        get_settings.cache_clear()
    if get_settings().is_production:
        raise click.ClickException("the demo data is not loaded in production")
    _run(apply_migrations())
    accounts = _run(_with_db(load_demo()))
    click.echo("\nDemo organisations and accounts (password for all: %s)\n" % DEMO_PASSWORD)
    click.echo(f"  {'organisation':<46} {'kind':<10} {'email':<36} role")
    for row in accounts:
        click.echo(f"  {row['tenant']:<46} {row['kind']:<10} {row['email']:<36} {row['role']}")
    click.echo(f"\nOpen http://{host}:{port}/login\n")
    if not no_serve:
        _serve(host, port, 1)


@main.command()
@click.option("--idle-seconds", default=2.0, show_default=True, type=float, help="Pause when no mail is due.")
def worker(idle_seconds: float) -> None:
    """Deliver queued mail and webhooks and check takedown deadlines; several may run side by side.

    SIGTERM or Ctrl-C stops it after the message being sent, so nothing is sent twice.
    """
    from portal.worker import run_outbox_loop

    settings = get_settings()

    async def loop() -> None:
        stop = asyncio.Event()
        event_loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            event_loop.add_signal_handler(signum, stop.set)
        smtp = urlparse(settings.smtp_url)
        target = f"{smtp.scheme}://{smtp.hostname}:{smtp.port or ''}" if settings.smtp_url else "the log"
        log.info("worker started: delivering mail to %s", target)
        await _with_db(run_outbox_loop(settings, idle_seconds=idle_seconds, stop=stop))
        log.info("worker stopped")

    _run(loop())


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check every link of the audit chain; exit 1 at the first broken one."""
    from portal.audit.services import verify_chain

    result = _run(_with_db(verify_chain()))
    if result.intact:
        click.echo(f"Audit chain intact: {result.entries_checked} entries checked.")
        return
    where = f"entry {result.first_broken_id}" if result.first_broken_id else "the chain head"
    click.echo(f"Audit chain BROKEN at {where}: {result.reason} ({result.entries_checked} entries checked).")
    sys.exit(1)


def _fail_on_validation(coroutine):
    from portal.core.errors import PortalError, ValidationFailed

    try:
        return _run(_with_db(coroutine))
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
    except PortalError as exc:
        raise click.ClickException(exc.message) from exc


@main.command("create-tenant")
@click.option("--kind", required=True, type=click.Choice(["isp", "ngo", "agency", "regulator"]))
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--hotline", is_flag=True, help="The NGO operates the reporting hotline (may have analysts).")
@click.option("--nipt", default="", help="Albanian tax number (NIPT), e.g. K91234567A.")
@click.option("--legal-name", default="", help="Registered legal name.")
@click.option("--address", default="", help="Postal address.")
@click.option("--contact-email", default="", help="General contact address of the organisation.")
def create_tenant(
    kind: str, slug: str, name: str, hotline: bool, nipt: str, legal_name: str, address: str, contact_email: str
) -> None:
    """Create an organisation (the rest of its profile can be filled in on its profile page)."""
    from portal.tenants.services import create_tenant as create

    given = {"nipt": nipt, "legal_name": legal_name, "address": address, "contact_email": contact_email}
    profile = {key: value for key, value in given.items() if value}
    tenant = _fail_on_validation(
        create(kind=kind, slug=slug, name=name, actor=CLI_ACTOR, is_hotline=hotline, **profile)
    )
    click.echo(f"Created {tenant['kind']} '{tenant['name']}' at /t/{tenant['slug']}/")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "officer", "analyst", "viewer"]))
@click.option("--name", "full_name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of generating one.")
def create_user(email: str, tenant_slug: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Create a person (or reuse the account) and give them a role in an organisation."""
    from portal.core.security import MIN_PASSWORD_LENGTH, generate_password
    from portal.tenants import services

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")

    async def create() -> tuple[dict, bool]:
        from portal.core.db import tenant_transaction
        from portal.core.errors import ValidationFailed

        tenant = await services.get_tenant_by_slug(tenant_slug)
        if error := services.check_role_for_tenant(role, tenant):
            raise ValidationFailed({"role": error})
        # One transaction: if the membership is refused, no account is left behind whose
        # one-time password nobody ever saw.
        async with tenant_transaction(tenant["id"]):
            user, created = await services.get_or_create_user(email, full_name or email, CLI_ACTOR, password)
            await services.add_member(tenant, user, role, CLI_ACTOR)
        return user, created

    user, created = _fail_on_validation(create())
    if created:
        click.echo(f"Created {user['email']} as {role} of {tenant_slug}.")
        if not password_stdin:
            click.echo(f"One-time password (shown once, change it after signing in): {password}")
    else:
        click.echo(f"{user['email']} already had an account; added as {role} of {tenant_slug}. Password unchanged.")


@main.command("create-api-key")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--name", default="command line", show_default=True)
@click.option("--scope", "scopes", multiple=True, default=("read", "write"), show_default=True)
def create_api_key(tenant_slug: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key for an organisation; the key is printed once and only its hash is kept."""
    from portal.tenants import services
    from portal.tenants.api_keys import create_api_key as create

    async def make() -> str:
        tenant = await services.get_tenant_by_slug(tenant_slug)
        secret, _row = await create(tenant, name=name, scopes=list(scopes), actor=CLI_ACTOR)
        return secret

    secret = _fail_on_validation(make())
    click.echo(f"API key for {tenant_slug} (shown once; send it as 'Authorization: Bearer <key>'):\n{secret}")


if __name__ == "__main__":
    main()
