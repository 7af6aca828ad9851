"""Typed settings read once from the environment; a bad value stops start-up with a clear message."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
INSECURE_SECRET_VALUES = {"", "change-me", "secret", "dev"}


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

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _embedded_secret(data_dir: Path) -> str:
    """Generate the embedded-mode secret once and keep it beside the database."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value


def load_settings() -> Settings:
    env = (_env("PORTAL_ENV", "embedded") or "embedded").lower()
    if env not in {"embedded", "production"}:
        raise SettingsError(f"PORTAL_ENV must be 'embedded' or 'production', got {env!r}")
    data_dir = Path(_env("PORTAL_DATA_DIR") or DEFAULT_DATA_DIR)
    database_url = _env("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.sqlite3'}"
    storage_url = _env("PORTAL_STORAGE_URL") or f"file://{data_dir / 'files'}"

    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise SettingsError("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://")
    if not storage_url.startswith(("file://", "s3://")):
        raise SettingsError("PORTAL_STORAGE_URL must start with file:// or s3://")
    if storage_url.startswith("s3://") and not urlparse(storage_url).netloc:
        raise SettingsError("PORTAL_STORAGE_URL=s3://BUCKET needs a bucket name")

    secret_key = _env("PORTAL_SECRET_KEY") or ""
    if env == "production":
        if secret_key in INSECURE_SECRET_VALUES or len(secret_key) < 32:
            raise SettingsError(
                "PORTAL_ENV=production needs PORTAL_SECRET_KEY (or PORTAL_SECRET_KEY_FILE) of at least 32 characters"
            )
    elif not secret_key:
        secret_key = _embedded_secret(data_dir)

    smtp_url = _env("PORTAL_SMTP_URL") or ""
    if smtp_url and not smtp_url.startswith(("smtp://", "smtps://")):
        raise SettingsError("PORTAL_SMTP_URL must start with smtp:// or smtps://")

    base_url = (_env("PORTAL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    return Settings(
        env=env,
        database_url=database_url,
        storage_url=storage_url,
        s3_endpoint_url=_env("PORTAL_S3_ENDPOINT_URL") or "",
        s3_region=_env("AWS_DEFAULT_REGION") or _env("AWS_REGION") or "us-east-1",
        secret_key=secret_key,
        smtp_url=smtp_url,
        mail_from=_env("PORTAL_MAIL_FROM") or Settings.mail_from,
        base_url=base_url,
        max_upload_bytes=_env_int("PORTAL_MAX_UPLOAD_BYTES", Settings.max_upload_bytes),
        inprocess_worker=_env_bool("PORTAL_INPROCESS_WORKER", env == "embedded"),
        session_hours=_env_int("PORTAL_SESSION_HOURS", Settings.session_hours),
        secure_cookies=_env_bool("PORTAL_SECURE_COOKIES", base_url.startswith("https://")),
        data_dir=data_dir,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return load_settings()
