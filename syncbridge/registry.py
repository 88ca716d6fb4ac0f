"""Find adapters by name through the entry-point group ``syncbridge.adapters``.

Adapters are separate distributions (``adapters/<name>/``, import package
``syncbridge_<name>``) that declare, in their ``pyproject.toml``::

    [project.entry-points."syncbridge.adapters"]
    sqlite = "syncbridge_sqlite:SqliteAdapter"

Nothing is imported until :func:`load_adapter` asks for that one name, so a broken or slow
adapter never costs the others anything. Two distributions claiming the same name is an
error (:class:`~syncbridge.errors.AdapterNotFound`), never a silent pick.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from syncbridge.adapter import Adapter
from syncbridge.errors import AdapterNotFound

__all__ = ["ENTRY_POINT_GROUP", "available_adapters", "load_adapter"]

ENTRY_POINT_GROUP = "syncbridge.adapters"


def _entry_points() -> dict[str, list[EntryPoint]]:
    """Entry points of the group by name (a name with two values is a conflict)."""
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        known = found.setdefault(ep.name, [])
        # The same distribution seen twice (e.g. an editable install on sys.path twice)
        # declares the same value: that is one adapter, not a conflict.
        if all(other.value != ep.value for other in known):
            known.append(ep)
    return found


def available_adapters() -> dict[str, str]:
    """Map each registered adapter name to its ``module:Class`` value, sorted by name.

    Reads installed distributions' metadata only; imports nothing. A duplicated name shows
    its values joined by `` | `` so ``syncbridge`` commands can list the conflict.
    """
    return {
        name: " | ".join(ep.value for ep in eps) for name, eps in sorted(_entry_points().items())
    }


def load_adapter(name: str) -> type[Adapter]:
    """Import and return the adapter class registered as ``name``.

    Raises :class:`AdapterNotFound` when no distribution registers ``name`` (the message
    lists the known names), when two distributions register it, or when the object found
    is not an :class:`Adapter` subclass.
    """
    found = _entry_points()
    eps = found.get(name)
    if not eps:
        known = ", ".join(sorted(found)) or "none"
        raise AdapterNotFound(
            f"no adapter named {name!r} (known: {known}); install its distribution, "
            f"e.g. 'pip install syncbridge-{name}'"
        )
    if len(eps) > 1:
        values = ", ".join(ep.value for ep in eps)
        raise AdapterNotFound(
            f"adapter name {name!r} is registered more than once ({values}); "
            "uninstall one of these distributions"
        )
    obj = eps[0].load()
    if not (isinstance(obj, type) and issubclass(obj, Adapter)):
        raise AdapterNotFound(
            f"entry point {name!r} = {eps[0].value!r} is not a syncbridge Adapter subclass"
        )
    return obj
