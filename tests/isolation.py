"""Reusable check that a person from another organisation learns nothing from a route.

Use it for every tenant-scoped route::

    await assert_outsider_gets_nothing(outsider_client, "GET", f"/t/{a['slug']}/members", [a["name"], email])

The outsider must get 404 (the organisation's existence is not confirmed) and the body must not
contain any of the secrets. Pass ``allow_forbidden=True`` only where a 403 is the documented answer
(for example an organisation-kind permission checked before anything is loaded).
"""

from __future__ import annotations

from typing import Any


async def assert_outsider_gets_nothing(
    client: Any,
    method: str,
    path: str,
    secrets: list[str],
    data: dict | None = None,
    *,
    allow_forbidden: bool = False,
) -> Any:
    """Request ``path`` as ``client`` and assert a 404 (or 403) that reveals none of ``secrets``."""
    method = method.upper()
    if method == "GET":
        response = await client.get(path)
    elif method == "POST":
        response = await client.post(path, data or {})
    else:
        raise ValueError(f"unsupported method {method!r}")
    allowed = {404, 403} if allow_forbidden else {404}
    assert response.status_code in allowed, (
        f"{method} {path} answered {response.status_code} to a member of another organisation; "
        f"expected {sorted(allowed)}. Body starts: {response.text[:300]!r}"
    )
    body = response.text
    headers = " ".join(f"{name}: {value}" for name, value in response.headers.items())
    for secret in secrets:
        assert secret, "an empty secret would match every body; pass real values"
        assert secret not in body, f"{method} {path} leaked {secret!r} in its body"
        assert secret not in headers, f"{method} {path} leaked {secret!r} in its headers"
    return response
