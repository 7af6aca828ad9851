"""Typed settings read once from the environment; a bad value stops start-up with a clear message."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
INSECURE_SECRET_VALUES = {"", "change-me", "changeme", "secret", "dev", "development", "test", "default"}
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """Raised at start-up when the environment describes an unusable configuration."""


def _env(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the contents of the file named by NAME_FILE (for container secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE points at {file_name!r}, which cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the portal reads from its environment.

    Attributes:
        env: ``embedded`` (one machine, SQLite, local files) or ``production``.
        database_url: ``sqlite:///path`` or ``postgresql://user@host:port/db``.
        storage_url: ``file:///folder`` or ``s3://bucket[/prefix]``.
        s3_endpoint_url: endpoint of an S3-compatible server (MinIO, SeaweedFS); empty for AWS.
        secret_key: signs CSRF tokens; production refuses a missing or default one.
        smtp_url: ``smtp://user:pass@host:port`` (``smtps://`` for implicit TLS); empty prints mail to the log.
        mail_from: sender address of every message the portal sends.
        base_url: public address used in links inside mail.
        max_upload_bytes: largest file accepted by any upload.
        inprocess_worker: deliver the outbox from the web process (embedded mode).
        session_hours: idle lifetime of a sign-in session.
        secure_cookies: set the Secure flag on cookies (on behind HTTPS).
        encryption_key: Fernet key(s) for data encrypted at rest (reporters' contact details);
            comma-separated to rotate: the first encrypts, all decrypt. Required in production.
    """

    env: str = "embedded"
    database_url: str = ""
    storage_url: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    secret_key: str = ""
    smtp_url: str = ""
    mail_from: str = "Portali <no-reply@portal.invalid>"
    base_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 20 * 1024 * 1024
    inprocess_worker: bool = True
    session_hours: int = 12
    secure_cookies: bool = False
    data_dir: Path = field(default=DEFAULT_DATA_DIR)
    encryption_key: str = ""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _embedded_secret(data_dir: Path) -> str:
    """Generate the embedded-mode secret once and keep it beside the database."""
    return _generated_once(data_dir / "secret_key", lambda: secrets.token_urlsafe(48), MIN_SECRET_LENGTH)


def _generated_once(path: Path, generate: Callable[[], str], min_length: int) -> str:
    """Return the value kept in ``path``, creating it with ``generate()`` the first time.

    The file is created exclusively with mode 0600, so it is never readable by others, not even for
    a moment, and two processes starting together agree on one value. An empty or truncated file
    left by an interrupted start is replaced.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                existing = _read_secret_file(path, min_length)
                if existing:
                    return existing
                path.unlink(missing_ok=True)
                continue
            value = generate()
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(value)
            return value
    except OSError as exc:
        raise SettingsError(f"cannot keep the generated key at {path}: {exc}") from exc
    raise SettingsError(f"cannot create the generated key at {path}")


def _read_secret_file(path: Path, min_length: int) -> str | None:
    """The stored value, waiting briefly in case another process is still writing it."""
    for _attempt in range(20):
        try:
            value = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if len(value) >= min_length:
            return value
        time.sleep(0.05)
    return None


def _check_url(name: str, value: str, schemes: tuple[str, ...], *, needs_host: bool) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        raise SettingsError(f"{name} must start with " + " or ".join(f"{s}://" for s in schemes) + f", got {value!r}")
    if needs_host and not parsed.hostname:
        raise SettingsError(f"{name} needs a host name, got {value!r}")


def _check_encryption_key(value: str) -> str:
    from cryptography.fernet import Fernet

    for part in value.split(","):
        try:
            Fernet(part.strip())
        except ValueError as exc:
            raise SettingsError(
                "PORTAL_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
                "(generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from exc
    return value


def _embedded_encryption_key(data_dir: Path) -> str:
    """Generate the embedded-mode encryption key once; losing it makes encrypted fields unreadable."""
    from cryptography.fernet import Fernet

    return _generated_once(data_dir / "encryption_key", lambda: Fernet.generate_key().decode("ascii"), 44)


def load_settings() -> Settings:
    env = (_env("PORTAL_ENV", "embedded") or "embedded").lower()
    if env not in {"embedded", "production"}:
        raise SettingsError(f"PORTAL_ENV must be 'embedded' or 'production', got {env!r}")
    # Absolute, so that the default file:// storage URL built from it is a path, not a host name.
    data_dir = Path(_env("PORTAL_DATA_DIR") or DEFAULT_DATA_DIR).expanduser().resolve()
    database_url = _env("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.sqlite3'}"
    storage_url = _env("PORTAL_STORAGE_URL") or f"file://{data_dir / 'files'}"

    if database_url.startswith("sqlite:///"):
        if not database_url[len("sqlite:///") :].strip():
            raise SettingsError("PORTAL_DATABASE_URL=sqlite:///PATH needs the path of the database file")
    elif database_url.startswith(("postgres://", "postgresql://")):
        if not urlparse(database_url).path.strip("/"):
            raise SettingsError("PORTAL_DATABASE_URL needs a database name, e.g. postgresql://portal@db:5432/portal")
    else:
        raise SettingsError("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://")
    parsed_storage = urlparse(storage_url)
    if parsed_storage.scheme == "file":
        if parsed_storage.netloc not in ("", "localhost") or not parsed_storage.path.startswith("/"):
            raise SettingsError(f"PORTAL_STORAGE_URL=file:///FOLDER needs an absolute path, got {storage_url!r}")
    elif parsed_storage.scheme == "s3":
        if not parsed_storage.netloc:
            raise SettingsError("PORTAL_STORAGE_URL=s3://BUCKET needs a bucket name")
    else:
        raise SettingsError("PORTAL_STORAGE_URL must start with file:// or s3://")
    s3_endpoint_url = _env("PORTAL_S3_ENDPOINT_URL") or ""
    if s3_endpoint_url:
        _check_url("PORTAL_S3_ENDPOINT_URL", s3_endpoint_url, ("http", "https"), needs_host=True)

    secret_key = _env("PORTAL_SECRET_KEY") or ""
    if env == "production":
        if secret_key.lower() in INSECURE_SECRET_VALUES or len(secret_key) < MIN_SECRET_LENGTH:
            raise SettingsError(
                "PORTAL_ENV=production needs PORTAL_SECRET_KEY (or PORTAL_SECRET_KEY_FILE) of at least "
                f"{MIN_SECRET_LENGTH} random characters"
            )
    elif not secret_key:
        secret_key = _embedded_secret(data_dir)

    encryption_key = _env("PORTAL_ENCRYPTION_KEY") or ""
    if encryption_key:
        _check_encryption_key(encryption_key)
    elif env == "production":
        raise SettingsError("PORTAL_ENV=production needs PORTAL_ENCRYPTION_KEY (or PORTAL_ENCRYPTION_KEY_FILE)")
    else:
        encryption_key = _embedded_encryption_key(data_dir)

    smtp_url = _env("PORTAL_SMTP_URL") or ""
    if smtp_url:
        _check_url("PORTAL_SMTP_URL", smtp_url, ("smtp", "smtps"), needs_host=True)
        try:
            urlparse(smtp_url).port
        except ValueError as exc:
            raise SettingsError(f"PORTAL_SMTP_URL has an invalid port: {smtp_url!r}") from exc

    # Links in mail are built from it: a missing scheme or host would send people nowhere.
    base_url = (_env("PORTAL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    _check_url("PORTAL_BASE_URL", base_url, ("http", "https"), needs_host=True)
    max_upload_bytes = _env_int("PORTAL_MAX_UPLOAD_BYTES", Settings.max_upload_bytes)
    if max_upload_bytes <= 0:
        raise SettingsError("PORTAL_MAX_UPLOAD_BYTES must be a positive number of bytes")
    session_hours = _env_int("PORTAL_SESSION_HOURS", Settings.session_hours)
    if session_hours <= 0:
        raise SettingsError("PORTAL_SESSION_HOURS must be a positive number of hours")
    return Settings(
        env=env,
        database_url=database_url,
        storage_url=storage_url,
        s3_endpoint_url=s3_endpoint_url,
        s3_region=_env("AWS_DEFAULT_REGION") or _env("AWS_REGION") or "us-east-1",
        secret_key=secret_key,
        smtp_url=smtp_url,
        mail_from=_env("PORTAL_MAIL_FROM") or Settings.mail_from,
        base_url=base_url,
        max_upload_bytes=max_upload_bytes,
        inprocess_worker=_env_bool("PORTAL_INPROCESS_WORKER", env == "embedded"),
        session_hours=session_hours,
        secure_cookies=_env_bool("PORTAL_SECURE_COOKIES", base_url.startswith("https://")),
        data_dir=data_dir,
        encryption_key=encryption_key,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return load_settings()
