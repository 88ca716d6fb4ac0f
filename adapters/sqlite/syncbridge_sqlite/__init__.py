"""syncbridge's SQLite target: one typed table per class, edits from any SQLite tool sync
back. Registered as entry point ``sqlite`` in group ``syncbridge.adapters``."""

from syncbridge_sqlite.adapter import SQLiteAdapter
from syncbridge_sqlite.config import SQLiteConfig
from syncbridge_sqlite.trash import Deletion, TrashEntry

__all__ = ["Deletion", "SQLiteAdapter", "SQLiteConfig", "TrashEntry"]
