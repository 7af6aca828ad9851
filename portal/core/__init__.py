"""Shared pieces that own no table: settings, database access, templating, i18n, storage, mail, errors."""
