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


def _copy(source_path: Path, target_path: Path) -> None:
    """Every page of `source_path` into `target_path`, read from one consistent snapshot."""
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _tables(path: Path) -> set[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from None
    finally:
        connection.close()


def backup(database_url: str, destination: Path) -> None:
    """Write a consistent copy of the database to `destination` (which must not exist)."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"there is no database at {source_path}")
    if destination.exists():
        raise BackupError(f"{destination} exists already; name a new file")
    _copy(source_path, destination)


def restore(database_url: str, backup_file: Path) -> None:
    """Replace the database's contents with the backup's. Stop the server first: its
    connections would keep serving what they had cached."""
    target_path = sqlite_path(database_url)
    if not backup_file.is_file():
        raise BackupError(f"there is no backup at {backup_file}")
    if not {"alembic_version", "organizations"} <= _tables(backup_file):
        raise BackupError(f"{backup_file} is not a msgprofiles backup")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target_path)
