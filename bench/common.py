"""Helpers for the benchmarks: a scratch PostgreSQL database, server processes, wrk, peak memory.

Every benchmark prints its figures next to a baseline measured in the same run, because absolute
times on these machines drift with the host's load while ratios hold.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("PORTAL_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one benchmark run, dropped afterwards."""
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", ADMIN_URL, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    url = database_url(name)
    try:
        subprocess.run([sys.executable, "-m", "portal.cli", "migrate"], env=portal_env(url), check=True,
                       stdout=subprocess.DEVNULL)
        yield url
    finally:
        subprocess.run(["psql", ADMIN_URL, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False)


def portal_env(url: str, **extra: str) -> dict[str, str]:
    data_dir = tempfile.mkdtemp(prefix="portal-bench-")
    return dict(
        os.environ,
        PORTAL_DATABASE_URL=url,
        PORTAL_DATA_DIR=data_dir,
        PORTAL_STORAGE_URL=f"file://{data_dir}/files",
        PORTAL_INPROCESS_WORKER="false",
        PICCOLO_CONF="portal.piccolo_conf",
        **extra,
    )


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port: int, ready_path: str = "/healthz") -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode(errors="replace"))
            try:
                httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server on port {port} did not start")
        yield process
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process, in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


def wrk(url: str, headers: dict[str, str] | None = None, seconds: int = 8, connections: int = 32) -> float:
    """Requests per second measured by wrk (Debian package `wrk`), on loopback only."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed for this benchmark: apt-get install -y wrk")
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url} answered {non_2xx.group(1)} errors under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def application_role_url(url: str, role: str = "portal_bench_app") -> str:
    """The scratch database's URL as an ordinary role (no superuser, no BYPASSRLS), like production.

    Migrations and data generation run as the administrator, which row-level security does not
    filter; the portal under measurement connects as this role so every policy is paid for.
    """
    database = url.rsplit("/", 1)[1]
    create = (f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN"
              f" CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$")
    subprocess.run(["psql", ADMIN_URL, "-qc", create], check=True)
    grants = (f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; "
              f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}; GRANT CREATE, TEMP ON DATABASE \"{database}\" TO {role}")
    subprocess.run(["psql", url, "-qc", grants], check=True)
    scheme, _sep, rest = url.partition("://")
    host_part = rest.split("@", 1)[-1]
    return f"{scheme}://{role}@{host_part}"


def dataset_and_key(url: str, scale: float, tenant_slug: str | None = None) -> tuple[object, str]:
    """Generate bench/dataset.py's data set and an API key (read, write) for ``tenant_slug`` (default: the main ISP)."""
    import asyncio

    from dataset import describe, generate

    data = asyncio.run(generate(url, scale))
    print(describe(data), flush=True)
    return data, api_key(url, tenant_slug or data.primary_isp)


def api_key(url: str, tenant_slug: str) -> str:
    output = subprocess.run([sys.executable, "-m", "portal.cli", "create-api-key", "--tenant", tenant_slug],
                            env=portal_env(url), check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return re.search(r"(psk_\S+)", output).group(1)
