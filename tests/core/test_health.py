"""Probes for load balancers, and the published API schema."""

from __future__ import annotations

import portal.core.health as health


async def test_healthz_answers_without_touching_anything(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_storage(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


async def test_readyz_reports_an_unreachable_storage(client, monkeypatch):
    class Unreachable:
        async def check(self) -> None:
            raise ConnectionError("no route to the storage server")

    monkeypatch.setattr(health, "get_storage", lambda: Unreachable())
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "storage": "error: ConnectionError"}


async def test_readyz_reports_an_unreachable_database(client, monkeypatch):
    async def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(health, "execute", broken)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OSError"


async def test_openapi_schema_is_served_and_describes_the_api(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    assert "get" in schema["paths"]["/api/v1/me"]
    for page in ("/login", "/healthz", "/readyz", "/account"):
        assert page not in schema["paths"], "HTML pages and probes are not part of the API"
