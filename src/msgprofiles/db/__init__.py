from msgprofiles.db.database import Connection, Database, open_database

__all__ = ["Connection", "Database", "open_database"]
