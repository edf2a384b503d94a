"""Backups of the embedded database with SQLite's online backup API: a consistent copy page by
page, even while the server writes (WAL). PostgreSQL has its own tools (pg_dump)."""

import sqlite3
from pathlib import Path

from msgprofiles.db.database import normalize_url


class BackupError(Exception):
    """Said to the operator as it is."""


def sqlite_path(database_url: str) -> Path:
    url = normalize_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError(
            "backup and restore are for the embedded SQLite database; for PostgreSQL use "
            "pg_dump and pg_restore"
        )
    return Path(url.database)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    with target:
        source.backup(target)


def backup(database_url: str, destination: Path) -> None:
    """Write a consistent copy of the database to `destination` (which must not exist)."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"there is no database at {source_path}")
    if destination.exists():
        raise BackupError(f"{destination} exists already; name a new file")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        _copy(source, target)
    finally:
        target.close()
        source.close()


def restore(database_url: str, backup_file: Path) -> None:
    """Replace the database's contents with the backup's. Stop the server first: its
    connections would keep serving what they had cached."""
    target_path = sqlite_path(database_url)
    if not backup_file.is_file():
        raise BackupError(f"there is no backup at {backup_file}")
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        source.close()
        raise BackupError(f"{backup_file} is not a SQLite database: {error}") from None
    if "alembic_version" not in tables or "organizations" not in tables:
        source.close()
        raise BackupError(f"{backup_file} is not a msgprofiles backup")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(target_path)
    try:
        _copy(source, target)
    finally:
        target.close()
        source.close()
