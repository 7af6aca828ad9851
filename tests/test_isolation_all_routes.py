"""Every route under /t/{tenant_slug}/ refuses another organisation's admin and leaks nothing.

The routes are not listed by hand: they are read from ``create_app()``, so a page added later is
checked automatically. Tenant A gets one of every kind of object; an admin of tenant B (a
regulator, the kind with the widest rights) then requests every route with A's slug and A's object
ids. A route with a path parameter nobody has registered makes a test fail, so nobody can add an
id-taking route without saying which of A's objects it should be tried with.

Registering a parameter: the builders below cover the organisation pages and documents. Another
feature adds ``tests/<feature>/isolation_objects.py`` defining ``OBJECT_BUILDERS``, a dict from
path parameter name to ``async def build(world: IsolationWorld) -> value``: the builder creates one
object for tenant A (``world.tenant``, signed-in admin ``world.admin_client``), appends the
strings that must never reach an outsider to ``world.secrets`` and returns the id for the path
(``await world.ensure("other_parameter")`` gives the value of a parameter it depends on).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from portal.core.db import execute, system_transaction
from tests.isolation import assert_outsider_gets_nothing
from tests.tenants.support import database_state, invitation_token

PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
TENANT_PREFIX = "/t/{tenant_slug"
IGNORED_METHODS = {"OPTIONS", "HEAD"}

# What a careless handler would act on if the tenant check were missing: enough for every form.
POST_DATA = {
    "role": "admin",
    "email": "spy@tenant-b.example",
    "name": "Spy key",
    "scopes": ["read", "write"],
    "legal_name": "Hijacked",
    "nipt": "K00000000Z",
    "contact_email": "spy@tenant-b.example",
    "description": "spy",
    "reason": "spy",
    "confirm": "on",
}

FILE_NAME = "raporti-sekret-i-A.txt"
FILE_CONTENT = "Permbajtje konfidenciale e organizates A"


@dataclass
class IsolationWorld:
    """Tenant A as the builders see it."""

    tenant: dict
    admin: Any
    admin_client: Any
    factory: Any
    client_factory: Any
    secrets: list[str] = field(default_factory=list)
    object_ids: dict[str, object] = field(default_factory=dict)
    builders: dict[str, Any] = field(default_factory=dict)

    async def ensure(self, name: str) -> object:
        """The value for path parameter ``name``, building the object once (a builder may need another's)."""
        if name not in self.object_ids:
            self.object_ids[name] = await self.builders[name](self)
        return self.object_ids[name]


Builder = Callable[[IsolationWorld], Awaitable[object]]


def tenant_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every tenant-scoped route the application serves."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(TENANT_PREFIX):
            for method in sorted(set(route.methods) - IGNORED_METHODS):
                found.append((method, route.path))
    return found


def path_parameters(template: str) -> list[str]:
    return PATH_PARAMETER.findall(template)


def unknown_parameters(template: str, object_ids: dict[str, object]) -> list[str]:
    return [name for name in path_parameters(template) if name not in object_ids]


def fill_path(template: str, object_ids: dict[str, object]) -> str:
    if unknown := unknown_parameters(template, object_ids):
        pytest.fail(
            f"Route {template} takes path parameter(s) {unknown} that no isolation builder knows. Register a "
            f"builder that creates one such object for tenant A (see the docstring of "
            f"tests/test_isolation_all_routes.py), so the route is checked against other organisations."
        )
    return PATH_PARAMETER.sub(lambda match: str(object_ids[match.group(1)]), template)


# --- builders for the organisation pages and documents ---------------------------------------


async def _membership_id(world: IsolationWorld) -> object:
    officer = await world.factory.member(world.tenant, "officer", email="officer@sekret-a.example")
    analyst = await world.factory.member(world.tenant, "analyst", email="analyst@sekret-a.example")
    world.secrets += [officer.email, analyst.email]
    async with system_transaction():
        [row] = await execute(
            'SELECT id FROM membership WHERE tenant = {} AND "user" = {}', world.tenant["id"], officer.user["id"]
        )
    return row["id"]


async def _invitation_id(world: IsolationWorld) -> object:
    response = await world.admin_client.post(
        f"/t/{world.tenant['slug']}/members/invite", {"email": "ftesa@sekret-a.example", "role": "viewer"}
    )
    assert response.status_code == 303, response.text
    world.secrets += ["ftesa@sekret-a.example", await invitation_token("ftesa@sekret-a.example")]
    async with system_transaction():
        [row] = await execute("SELECT id FROM invitation WHERE tenant = {}", world.tenant["id"])
    return row["id"]


async def _key_id(world: IsolationWorld) -> object:
    response = await world.admin_client.post(
        f"/t/{world.tenant['slug']}/api-keys", {"name": "Celesi Sekret i A", "scopes": ["read"]}
    )
    assert response.status_code == 200, response.text
    async with system_transaction():
        [row] = await execute("SELECT id, prefix FROM api_key WHERE tenant = {}", world.tenant["id"])
    world.secrets += ["Celesi Sekret i A", row["prefix"]]
    return row["id"]


async def _file_id(world: IsolationWorld) -> object:
    """A stored document of tenant A, through the files service when there is one."""
    from portal.core.actor import Actor

    actor = Actor(user_id=world.admin.user["id"], label=world.admin.email, ip="127.0.0.1")
    world.secrets += [FILE_NAME, FILE_CONTENT, "Shenim sekret i A"]
    try:
        from portal.files.services import store_file
    except ImportError:
        store_file = None
    if store_file is not None:
        row = await store_file(
            world.tenant, data=FILE_CONTENT.encode(), filename=FILE_NAME, description="Shenim sekret i A", actor=actor
        )
        return row["id"]
    from portal.core.storage import new_storage_key
    from portal.files.tables import StoredFile

    async with system_transaction():
        rows = await StoredFile.insert(
            StoredFile(
                tenant=world.tenant["id"], storage_key=new_storage_key(world.tenant["id"], "documents"),
                filename=FILE_NAME, content_type="text/plain", size_bytes=len(FILE_CONTENT), sha256="0" * 64,
                description="Shenim sekret i A", uploaded_by=actor.user_id,
            )
        ).returning(StoredFile.id)
    return rows[0]["id"]


async def _other_slug(world: IsolationWorld) -> object:
    # the regulators' directory page of one organisation, tried with A itself
    return world.tenant["slug"]


OBJECT_BUILDERS: dict[str, Builder] = {
    "membership_id": _membership_id,
    "invitation_id": _invitation_id,
    "key_id": _key_id,
    "file_id": _file_id,
    "other_slug": _other_slug,
}


def all_builders() -> dict[str, Builder]:
    """This file's builders plus every ``tests/<feature>/isolation_objects.py`` registry."""
    builders = dict(OBJECT_BUILDERS)
    for module_file in sorted(Path(__file__).parent.glob("*/isolation_objects.py")):
        module = importlib.import_module(f"tests.{module_file.parent.name}.isolation_objects")
        for name, builder in getattr(module, "OBJECT_BUILDERS", {}).items():
            assert name not in builders, f"path parameter {name!r} registered twice (again in {module_file})"
            builders[name] = builder
    return builders


async def build_tenant_a(factory, client_factory, needed: set[str]) -> IsolationWorld:
    """Tenant A with its profile filled in and one object for every registered parameter in ``needed``."""
    tenant = await factory.tenant(
        "ngo", slug="tenant-a", name="Organizata Sekrete A", is_hotline=True, legal_name="Shoqata Sekrete A",
        nipt="K12345678S", address="Rruga e Fshehte 7, Tirane", contact_email="kontakt@sekret-a.example",
        contact_point_name="Mirela Fshehura", contact_point_title="Koordinatore Sekrete",
        contact_point_email="mirela@sekret-a.example", contact_point_phone="+355 69 000 1111",
    )
    admin = await factory.member(tenant, "admin", email="admin@sekret-a.example")
    world = IsolationWorld(
        tenant=tenant, admin=admin, admin_client=await client_factory(admin), factory=factory,
        client_factory=client_factory,
        secrets=[
            "Organizata Sekrete A", "Shoqata Sekrete A", "K12345678S", "Rruga e Fshehte 7", "kontakt@sekret-a.example",
            "Mirela Fshehura", "Koordinatore Sekrete", "mirela@sekret-a.example", "+355 69 000 1111", admin.email,
        ],
    )
    world.object_ids["tenant_slug"] = tenant["slug"]
    world.builders = all_builders()
    for name in sorted(needed):
        if name in world.builders:
            await world.ensure(name)
    return world


def placeholder(template: str, name: str) -> str:
    """A stand-in id for a parameter nobody registered yet (int parameters get 1)."""
    match = re.search(r"\{" + name + r":(\w+)\}", template)
    return "1" if match and match.group(1) == "int" else "unregistered"


async def test_another_organisations_admin_gets_404_and_nothing_on_every_tenant_route(app, factory, client_factory):
    routes = tenant_routes(app)
    needed = {name for _method, template in routes for name in path_parameters(template)} - {"tenant_slug"}
    world = await build_tenant_a(factory, client_factory, needed)
    object_ids = world.object_ids
    tenant_b = await factory.tenant("regulator", slug="tenant-b", name="Rregullatori B")
    outsider = await client_factory(await factory.member(tenant_b, "admin", email="admin@tenant-b.example"))

    # The secrets are real: A's own admin sees them where they belong.
    owner = world.admin_client
    members_page = await owner.get("/t/tenant-a/members")
    assert "officer@sekret-a.example" in members_page.text and "ftesa@sekret-a.example" in members_page.text
    assert "K12345678S" in (await owner.get("/t/tenant-a/profile")).text

    templates = {template for _method, template in routes}
    for expected in ("/profile", "/members", "/members/{membership_id:int}/role", "/api-keys", "/audit", "/files"):
        assert any(template.endswith(expected) for template in templates), f"no route ending in {expected} found"

    before = await database_state()
    failures: list[str] = []
    for method, template in routes:
        # Parameters nobody registered yet are still tried (with a stand-in id) so the tenant check is
        # exercised; the next test fails until a real object is registered for them.
        ids = object_ids | {name: placeholder(template, name) for name in unknown_parameters(template, object_ids)}
        path = fill_path(template, ids)
        try:
            await assert_outsider_gets_nothing(outsider, method, path, world.secrets, POST_DATA if method == "POST" else None)
        except AssertionError as exc:
            failures.append(f"{method} {template}: {exc}")
    assert not failures, "tenant isolation broken on:\n" + "\n".join(failures)
    assert await database_state() == before, "a refused request changed tenant A's data"

    # And the outsider's own organisation still works: the 404s above were not a broken session.
    assert (await outsider.get("/t/tenant-b/members")).status_code == 200


def test_every_path_parameter_of_every_tenant_route_has_an_isolation_builder(app):
    builders = all_builders()
    missing: dict[str, list[str]] = {}
    for method, template in tenant_routes(app):
        for name in path_parameters(template):
            if name != "tenant_slug" and name not in builders:
                missing.setdefault(name, []).append(f"{method} {template}")
    assert not missing, (
        "These path parameters have no isolation builder, so the routes that take them are only tried with a "
        "stand-in id: "
        + "; ".join(f"{name} (used by {', '.join(sorted(set(uses)))})" for name, uses in sorted(missing.items()))
        + ". Add OBJECT_BUILDERS entries in tests/<feature>/isolation_objects.py (see tests/test_isolation_all_routes.py)."
    )


def test_a_route_with_an_unknown_path_parameter_fails_loudly():
    with pytest.raises(pytest.fail.Exception, match=r"takes path parameter\(s\) \['report_id'\]"):
        fill_path("/t/{tenant_slug:str}/reports/{report_id:int}", {"tenant_slug": "a"})
    assert fill_path("/t/{tenant_slug:str}/files/{file_id:int}", {"tenant_slug": "a", "file_id": 7}) == "/t/a/files/7"
    assert placeholder("/t/{tenant_slug:str}/x/{thing_id:int}", "thing_id") == "1"
