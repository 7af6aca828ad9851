"""Settings of the takedown workflow, read from the environment like the portal's own settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from portal.core.settings import SettingsError, _env, _env_int


@dataclass(frozen=True)
class TakedownSettings:
    """Deadlines, intake routing and public-form limits.

    Attributes:
        deadline_hours: hours an ISP has to act, per priority (``PORTAL_TAKEDOWN_HOURS_CRITICAL``,
            ``..._HIGH``, ``..._NORMAL``; defaults 24, 48, 72: CSAM, other illegal, harmful).
        intake_tenant: slug of the organisation whose queue receives public reports
            (``PORTAL_REPORT_INTAKE_TENANT``); empty means the hotline NGO, else the first agency.
        public_reports_per_hour: reports one address may send through the public form per hour.
    """

    deadline_hours: dict[str, int]
    intake_tenant: str = ""
    public_reports_per_hour: int = 10


def load_takedown_settings() -> TakedownSettings:
    hours = {
        "critical": _env_int("PORTAL_TAKEDOWN_HOURS_CRITICAL", 24),
        "high": _env_int("PORTAL_TAKEDOWN_HOURS_HIGH", 48),
        "normal": _env_int("PORTAL_TAKEDOWN_HOURS_NORMAL", 72),
    }
    for name, value in hours.items():
        if not 1 <= value <= 24 * 90:
            raise SettingsError(f"PORTAL_TAKEDOWN_HOURS_{name.upper()} must be between 1 and 2160 hours")
    per_hour = _env_int("PORTAL_PUBLIC_REPORTS_PER_HOUR", 10)
    if per_hour < 1:
        raise SettingsError("PORTAL_PUBLIC_REPORTS_PER_HOUR must be at least 1")
    return TakedownSettings(
        deadline_hours=hours,
        intake_tenant=(_env("PORTAL_REPORT_INTAKE_TENANT") or "").strip(),
        public_reports_per_hour=per_hour,
    )


@lru_cache(maxsize=1)
def get_takedown_settings() -> TakedownSettings:
    return load_takedown_settings()
