"""One clock for the service: timezone-aware UTC, truncated to milliseconds so a value reads
back identically from SQLite and PostgreSQL."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
