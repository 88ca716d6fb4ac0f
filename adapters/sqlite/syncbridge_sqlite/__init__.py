"""syncbridge's SQLite target: one typed table per class, edits from any SQLite tool sync
back. Registered as entry point ``sqlite`` in group ``syncbridge.adapters``."""

from syncbridge_sqlite.adapter import Deletion, SQLiteAdapter, SQLiteConfig, TrashEntry

__all__ = ["Deletion", "SQLiteAdapter", "SQLiteConfig", "TrashEntry"]
