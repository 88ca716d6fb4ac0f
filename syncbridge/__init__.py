"""syncbridge: lossless, bidirectional sync between an Obsidian vault and external tools."""

from syncbridge.note import Note

__all__ = ["Note"]
__version__ = "0.1.0"
