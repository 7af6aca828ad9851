"""Settings from the environment: safe embedded defaults, and refusals that stop a bad start-up."""

from __future__ import annotations

import stat

import pytest

from portal.core.settings import SettingsError, load_settings

GOOD_SECRET = "k3V9-production-secret-that-is-long-and-random-0f1e"
FERNET_KEY = "q2Zc3X0d7m9yYJxF1m3vR8n5s0pQeL4bT6uW2aZkH1c="


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean embedded environment in a private data folder; tests change what they need."""
    for name in (
        "PORTAL_ENV", "PORTAL_DATABASE_URL", "PORTAL_STORAGE_URL", "PORTAL_SECRET_KEY", "PORTAL_SECRET_KEY_FILE",
        "PORTAL_SMTP_URL", "PORTAL_BASE_URL", "PORTAL_S3_ENDPOINT_URL", "PORTAL_MAX_UPLOAD_BYTES",
        "PORTAL_SESSION_HOURS", "PORTAL_SECURE_COOKIES", "PORTAL_INPROCESS_WORKER", "PORTAL_ENCRYPTION_KEY",
        "PORTAL_ENCRYPTION_KEY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_embedded_defaults_need_no_configuration(env, tmp_path):
    settings = load_settings()
    data = tmp_path / "data"
    assert settings.env == "embedded"
    assert settings.database_url == f"sqlite:///{data / 'portal.sqlite3'}"
    assert settings.storage_url == f"file://{data / 'files'}"
    assert settings.smtp_url == ""
    assert settings.inprocess_worker is True
    assert settings.secure_cookies is False
    assert not settings.is_postgres


def test_embedded_mode_generates_a_secret_once_and_reuses_it(env, tmp_path):
    first = load_settings().secret_key
    path = tmp_path / "data" / "secret_key"
    assert len(first) >= 32
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the secret must not be readable by other accounts"
    assert load_settings().secret_key == first


def test_embedded_mode_keeps_a_generated_encryption_key_too(env, tmp_path):
    first = load_settings().encryption_key
    path = tmp_path / "data" / "encryption_key"
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings().encryption_key == first


def test_an_empty_secret_file_left_by_an_interrupted_start_is_replaced(env, tmp_path):
    path = tmp_path / "data" / "secret_key"
    path.parent.mkdir(parents=True)
    path.write_text("")
    secret = load_settings().secret_key
    assert len(secret) >= 32
    assert path.read_text() == secret


def test_an_explicit_secret_is_used_and_no_file_is_written(env, tmp_path):
    env.setenv("PORTAL_SECRET_KEY", GOOD_SECRET)
    assert load_settings().secret_key == GOOD_SECRET
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize("secret", [None, "", "change-me", "short-secret", "x" * 31])
def test_production_refuses_a_missing_short_or_default_secret(env, tmp_path, secret):
    env.setenv("PORTAL_ENV", "production")
    env.setenv("PORTAL_ENCRYPTION_KEY", FERNET_KEY)
    if secret is not None:
        env.setenv("PORTAL_SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY"):
        load_settings()
    assert not (tmp_path / "data" / "secret_key").exists(), "production never invents a secret"


def test_production_refuses_a_long_well_known_default(env):
    env.setenv("PORTAL_ENV", "production")
    env.setenv("PORTAL_ENCRYPTION_KEY", FERNET_KEY)
    env.setenv("PORTAL_SECRET_KEY", "CHANGE-ME")
    with pytest.raises(SettingsError):
        load_settings()


def test_production_accepts_a_long_secret(env):
    env.setenv("PORTAL_ENV", "production")
    env.setenv("PORTAL_ENCRYPTION_KEY", FERNET_KEY)
    env.setenv("PORTAL_SECRET_KEY", GOOD_SECRET)
    settings = load_settings()
    assert settings.is_production
    assert settings.secret_key == GOOD_SECRET
    assert settings.inprocess_worker is False, "production delivers mail with `portal worker`"


def test_secret_read_from_a_file(env, tmp_path):
    secret_file = tmp_path / "run-secrets" / "portal_secret"
    secret_file.parent.mkdir()
    secret_file.write_text(GOOD_SECRET + "\n")
    env.setenv("PORTAL_ENV", "production")
    env.setenv("PORTAL_ENCRYPTION_KEY", FERNET_KEY)
    env.setenv("PORTAL_SECRET_KEY", "ignored-when-the-file-is-given")
    env.setenv("PORTAL_SECRET_KEY_FILE", str(secret_file))
    assert load_settings().secret_key == GOOD_SECRET


def test_an_unreadable_secret_file_is_refused(env, tmp_path):
    env.setenv("PORTAL_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY_FILE"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_DATABASE_URL", "mysql://portal@db/portal"),
        ("PORTAL_DATABASE_URL", "sqlite:///"),
        ("PORTAL_DATABASE_URL", "sqlite://relative.db"),
        ("PORTAL_DATABASE_URL", "postgresql://portal@db:5432"),
        ("PORTAL_STORAGE_URL", "ftp://files.example.al/portal"),
        ("PORTAL_STORAGE_URL", "s3://"),
        ("PORTAL_STORAGE_URL", "file://relative/folder"),
        ("PORTAL_SMTP_URL", "http://mail.example.al"),
        ("PORTAL_SMTP_URL", "smtp://"),
        ("PORTAL_SMTP_URL", "smtp://mail.example.al:notaport"),
        ("PORTAL_BASE_URL", "portal.example.al"),
        ("PORTAL_BASE_URL", "https://"),
        ("PORTAL_S3_ENDPOINT_URL", "localhost:8333"),
        ("PORTAL_ENV", "staging"),
        ("PORTAL_MAX_UPLOAD_BYTES", "twenty megabytes"),
        ("PORTAL_MAX_UPLOAD_BYTES", "0"),
        ("PORTAL_SESSION_HOURS", "-1"),
        ("PORTAL_SECURE_COOKIES", "maybe"),
    ],
)
def test_bad_values_stop_start_up_with_the_variable_named(env, name, value):
    env.setenv("PORTAL_SECRET_KEY", GOOD_SECRET)
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_DATABASE_URL", "postgresql://portal:pw@db.internal:5432/portal"),
        ("PORTAL_DATABASE_URL", "sqlite:////srv/portal/portal.sqlite3"),
        ("PORTAL_STORAGE_URL", "s3://portal-files/prod"),
        ("PORTAL_STORAGE_URL", "file:///srv/portal/files"),
        ("PORTAL_SMTP_URL", "smtps://user%40example.al:p%40ss@mail.example.al:465"),
        ("PORTAL_BASE_URL", "https://portal.akcesk.gov.al/"),
        ("PORTAL_S3_ENDPOINT_URL", "http://127.0.0.1:8333"),
    ],
)
def test_good_values_are_accepted(env, name, value):
    env.setenv(name, value)
    assert load_settings() is not None


def test_https_base_url_turns_on_secure_cookies_and_loses_its_trailing_slash(env):
    env.setenv("PORTAL_BASE_URL", "https://portal.akcesk.gov.al/")
    settings = load_settings()
    assert settings.base_url == "https://portal.akcesk.gov.al"
    assert settings.secure_cookies is True


def test_a_relative_data_folder_still_gives_a_storage_path(env, tmp_path):
    env.chdir(tmp_path)
    env.setenv("PORTAL_DATA_DIR", "var")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "var"
    assert settings.storage_url == f"file://{tmp_path / 'var' / 'files'}"
