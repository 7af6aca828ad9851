"""The per-ISP yearly takedown figures cache, and the trigger that tells it which figures changed.

``annual_report_takedown_figures`` holds one ISP's figures of one year (see
``portal.annual_reports.figures_cache``); ``annual_report_takedown_year`` says a year was computed
for every ISP at least once. A trigger on ``takedown_assignment`` appends a row to
``annual_report_takedown_change`` for each insert, and each update of a column the figures read,
with the year and recipient concerned and (PostgreSQL) the writing transaction's id, so a cached
row is known stale exactly when a change it did not see was committed. Raw SQL only: the tables
are the cache's own business, no Piccolo table class reads them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute, is_postgres
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "takedown figures cache"

COLUMNS = "status, outcome, sent_at, due_at, acknowledged_at, actioned_at, disputed_at, recipient"

POSTGRES = [
    "CREATE TABLE IF NOT EXISTS annual_report_takedown_figures ("
    " year integer NOT NULL, recipient integer NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,"
    " figures text NOT NULL, open_until timestamptz NULL, snapshot pg_snapshot NOT NULL,"
    " computed_at timestamptz NOT NULL, PRIMARY KEY (year, recipient))",
    "CREATE TABLE IF NOT EXISTS annual_report_takedown_year (year integer PRIMARY KEY, computed_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS annual_report_takedown_change ("
    " id bigserial PRIMARY KEY, year integer NOT NULL, recipient integer NOT NULL,"
    " xid xid8 NOT NULL DEFAULT pg_current_xact_id())",
    "CREATE INDEX IF NOT EXISTS annual_report_takedown_change_key ON annual_report_takedown_change (year, recipient)",
    """
    CREATE OR REPLACE FUNCTION annual_report_takedown_changed() RETURNS trigger AS $$
    BEGIN
        INSERT INTO annual_report_takedown_change (year, recipient)
        VALUES (extract(year FROM NEW.sent_at AT TIME ZONE 'UTC')::integer, NEW.recipient);
        IF TG_OP = 'UPDATE' AND (OLD.recipient <> NEW.recipient
                OR date_trunc('year', OLD.sent_at AT TIME ZONE 'UTC')
                   <> date_trunc('year', NEW.sent_at AT TIME ZONE 'UTC')) THEN
            INSERT INTO annual_report_takedown_change (year, recipient)
            VALUES (extract(year FROM OLD.sent_at AT TIME ZONE 'UTC')::integer, OLD.recipient);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS takedown_assignment_figures_changed ON takedown_assignment",
    f"CREATE TRIGGER takedown_assignment_figures_changed AFTER INSERT OR UPDATE OF {COLUMNS}"
    " ON takedown_assignment FOR EACH ROW EXECUTE FUNCTION annual_report_takedown_changed()",
]

_YEAR = "CAST(strftime('%Y', {row}.sent_at) AS INTEGER)"

SQLITE = [
    "CREATE TABLE IF NOT EXISTS annual_report_takedown_figures ("
    " year INTEGER NOT NULL, recipient INTEGER NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,"
    " figures TEXT NOT NULL, open_until TIMESTAMP NULL, snapshot TEXT NOT NULL DEFAULT '',"
    " computed_at TIMESTAMP NOT NULL, PRIMARY KEY (year, recipient))",
    "CREATE TABLE IF NOT EXISTS annual_report_takedown_year (year INTEGER PRIMARY KEY, computed_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS annual_report_takedown_change ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, year INTEGER NOT NULL, recipient INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS annual_report_takedown_change_key ON annual_report_takedown_change (year, recipient)",
    "CREATE TRIGGER IF NOT EXISTS takedown_assignment_figures_inserted AFTER INSERT ON takedown_assignment BEGIN"
    f" INSERT INTO annual_report_takedown_change (year, recipient) VALUES ({_YEAR.format(row='NEW')}, NEW.recipient);"
    " END",
    f"CREATE TRIGGER IF NOT EXISTS takedown_assignment_figures_updated AFTER UPDATE OF {COLUMNS} ON takedown_assignment"
    f" BEGIN INSERT INTO annual_report_takedown_change (year, recipient) VALUES ({_YEAR.format(row='NEW')},"
    " NEW.recipient);"
    f" INSERT INTO annual_report_takedown_change (year, recipient) SELECT {_YEAR.format(row='OLD')}, OLD.recipient"
    f" WHERE OLD.recipient <> NEW.recipient OR {_YEAR.format(row='OLD')} <> {_YEAR.format(row='NEW')}; END",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="annual_reports", description=DESCRIPTION)

    async def run():
        for statement in POSTGRES if is_postgres() else SQLITE:
            await execute(statement)
        # An ISP reads its own figures; the change log is written from any scope (the issuer's
        # transaction inserts an ISP's assignment) but read only by the ISP or system work.
        await enable_tenant_rls("annual_report_takedown_figures", column="recipient")
        await enable_tenant_rls("annual_report_takedown_change", column="recipient", insert_anywhere=True)

    manager.add_raw(run)
    return manager
