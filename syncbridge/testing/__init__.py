"""Test support shipped as public API: the in-memory adapter and the adapter contract suite."""
