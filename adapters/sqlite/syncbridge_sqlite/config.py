"""The keys of a ``[[targets]]`` table with ``adapter = "sqlite"``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from syncbridge.adapter import AdapterConfig

__all__ = ["SQLiteConfig"]


class SQLiteConfig(AdapterConfig):
    """Keys of a ``[[targets]]`` table with ``adapter = "sqlite"`` (unknown keys are errors)."""

    path: Path = Field(description="Database file, relative to the config file's folder.")
    table_prefix: str = Field(
        "", description="Prefix of every table this target creates (to share one file)."
    )
    busy_timeout_ms: int = Field(
        5000, ge=0, description="How long a write waits for another writer's lock, in ms."
    )
