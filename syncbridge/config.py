"""``syncbridge.toml``: reading, validating and resolving the configuration.

The file is TOML (``tomllib``), validated by pydantic models that forbid unknown keys at
every level. A target's own keys (``path`` for SQLite, ``database_id`` for Notion ...) are
validated by its adapter's ``config_model``, found through :func:`syncbridge.registry.load_adapter`.
Every problem raises :class:`~syncbridge.errors.ConfigError` whose message names the file
and the key path, e.g. ``syncbridge.toml: targets[0].adapter: no adapter named 'sqlit'``.

Relative paths (``vault.path``, ``state.path``, a target's ``path``) resolve against the
folder of the config file, so a config works from any working directory.

The smallest useful file::

    [vault]
    path = "examples/vault"

    [[targets]]
    name = "local"
    adapter = "sqlite"
    path = "syncbridge-demo.db"

``config.example.toml`` at the repository root documents every key.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from syncbridge.adapter import Adapter, AdapterConfig
from syncbridge.errors import AdapterNotFound, ConfigError

if TYPE_CHECKING:
    from syncbridge.engine.options import Filters, SyncOptions

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "Config",
    "ControlSection",
    "DaemonSection",
    "StateSection",
    "SyncSection",
    "Target",
    "TargetSection",
    "VaultSection",
    "find_config",
    "load_config",
    "parse_config",
]

DEFAULT_CONFIG_NAME = "syncbridge.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VaultSection(_Strict):
    """``[vault]``: the Obsidian vault to sync."""

    path: Path = Field(description="The vault folder, relative to the config file's folder.")
    ignore: list[str] = Field(
        default_factory=list,
        description="Path globs of notes that are never read ('Archive/**', '*.excalidraw.md');"
        " .obsidian/, .trash/ and .git/ are always ignored.",
    )
    template_folders: list[str] = Field(
        default_factory=list,
        description="More folders whose notes are templates, never entries (Templater's and"
        " Metadata Menu's own settings are read too).",
    )
    timezone: str | None = Field(
        None,
        description="IANA zone of the local times in notes (last_modified: 2025-07-05 16:56);"
        " default: this machine's zone.",
    )
    update_links: bool = Field(
        True,
        description="When a sync renames a note (a record retitled on the remote), rewrite"
        " the links to it in other notes, as Obsidian does; false: leave them and report"
        " them as broken.",
    )
    class_folders: dict[str, str] = Field(
        default_factory=dict,
        description="Class name → vault folder for notes that sync and 'migrate --from'"
        " create from new remote records ({ wound = 'Psyche/Wounds' }); a class not listed"
        " goes where the remote says the note came from, else beside the notes of its"
        " class, else in its fileClass's first filesPaths folder, else the vault root.",
    )

    @field_validator("class_folders")
    @classmethod
    def _relative_folders(cls, value: dict[str, str]) -> dict[str, str]:
        for name, folder in value.items():
            clean = folder.strip().strip("/")
            parts = clean.split("/")
            if (
                "\\" in folder
                or folder.strip().startswith("/")
                or any(p in ("..", "") or p.startswith(".") for p in parts if clean)
            ):
                raise ValueError(
                    f"class {name!r}: {folder!r} is not a folder inside the vault "
                    "(a relative path such as 'Psyche/Wounds', no '..', no dot-folders)"
                )
        return {name: folder.strip().strip("/") for name, folder in value.items()}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (e.g. 'Europe/Paris')") from exc
        return value


ConflictStrategyName = Literal["last_modified", "vault_wins", "remote_wins", "manual"]


class SyncSection(_Strict):
    """``[sync]``: how entries are matched and conflicts decided, for every target."""

    id_field: str = Field(
        "id", description="Frontmatter key that identifies a note on both sides; '' for none."
    )
    last_modified_field: str = Field(
        "last_modified",
        description="Frontmatter key holding the note's modification time; '' for none.",
    )
    conflict_strategy: ConflictStrategyName = Field(
        "last_modified", description="Who wins a field changed on both sides."
    )
    tie_breaker: Literal["vault", "remote"] = Field(
        "vault", description="Who wins when both times are equal at the coarser precision."
    )
    max_delete_fraction: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of linked entries one run may delete on a side before it stops.",
    )
    default_class: str = Field(
        "note", min_length=1, description="Class of notes that have no fileClass."
    )


class StateSection(_Strict):
    """``[state]``: where syncbridge keeps what both sides last agreed on."""

    path: Path | None = Field(
        None, description="State file; default .syncbridge/state.db beside the config file."
    )


class ControlSection(_Strict):
    """``[daemon.control]``: the daemon's local HTTP control API (docs/control-api.md)."""

    enabled: bool = Field(
        False, description="Serve the control API on 127.0.0.1 while 'syncbridge watch' runs."
    )
    port: int = Field(
        0, ge=0, le=65535, description="TCP port on 127.0.0.1; 0 picks a free one each start."
    )


class DaemonSection(_Strict):
    """``[daemon]``: how ``syncbridge watch`` times its syncs."""

    debounce_ms: int = Field(
        1000,
        ge=0,
        le=600_000,
        description="Quiet time after the last vault change before it is synced (a save"
        " burst, a git checkout become one sync).",
    )
    max_delay_ms: int = Field(
        10_000,
        ge=0,
        le=3_600_000,
        description="A vault that never stays quiet is still synced this long after the"
        " first change.",
    )
    poll_interval_s: float = Field(
        30.0, gt=0, le=86_400, description="How often each target is checked for changes."
    )
    full_scan_interval_s: float = Field(
        300.0,
        gt=0,
        le=86_400,
        description="Seconds between full rescans of the vault; in between, a sync rescans"
        " only the notes its file events named (lost events are caught here).",
    )
    polling: bool = Field(
        False,
        description="Watch the vault by polling instead of the OS's file events (network"
        " drives); the daemon falls back to it by itself when events cannot be had.",
    )
    control: ControlSection = Field(default_factory=ControlSection)  # type: ignore[arg-type]


class TargetSection(_Strict):
    """The keys every ``[[targets]]`` table understands; other keys belong to the adapter."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Unique name of the target (letters, digits, '_', '.', '-').",
    )
    adapter: str = Field(min_length=1, description="Adapter entry-point name: 'sqlite' ...")
    enabled: bool = Field(True, description="false: 'syncbridge sync' skips this target.")
    include: list[str] = Field(
        default_factory=list, description="Path globs of notes to sync; empty: every note."
    )
    exclude: list[str] = Field(default_factory=list, description="Path globs of notes to skip.")
    classes: list[str] = Field(
        default_factory=list, description="Classes to sync; empty: every class."
    )
    exclude_classes: list[str] = Field(default_factory=list, description="Classes to skip.")
    poll_interval_s: float | None = Field(
        None,
        gt=0,
        le=86_400,
        description="How often 'syncbridge watch' checks this target for changes; default"
        " [daemon] poll_interval_s.",
    )
    exclude_values: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="Field → values that keep a note off this target"
        " (visibility = ['🔒 private']); one value may be given without a list.",
    )

    @field_validator("exclude_values", mode="before")
    @classmethod
    def _value_lists(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        lists = {k: v if isinstance(v, list) else [v] for k, v in value.items()}
        for key, items in lists.items():
            for item in items:
                if not isinstance(item, str | int | float | bool):
                    raise ValueError(f"{key}: values must be strings, numbers or booleans")
        return lists


_TARGET_KEYS = frozenset(TargetSection.model_fields)


class _File(_Strict):
    vault: VaultSection
    sync: SyncSection = Field(default_factory=SyncSection)  # type: ignore[arg-type]
    state: StateSection = Field(default_factory=StateSection)  # type: ignore[arg-type]
    daemon: DaemonSection = Field(default_factory=DaemonSection)  # type: ignore[arg-type]
    targets: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """One validated ``[[targets]]`` entry.

    ``settings`` is the adapter's ``config_model`` instance; :meth:`open` builds the adapter
    with relative paths resolved against ``base_dir`` (the config file's folder).
    """

    section: TargetSection
    adapter_class: type[Adapter]
    settings: AdapterConfig
    base_dir: Path

    @property
    def name(self) -> str:
        return self.section.name

    def open(self) -> Adapter:
        """A new, open adapter for this target (the caller closes it)."""
        return self.adapter_class(self.settings, base_dir=self.base_dir)


@dataclass(frozen=True)
class Config:
    """A loaded configuration. ``path`` is the file (``None`` when parsed from text with no
    file); every ``Path`` attribute is absolute."""

    path: Path | None
    base_dir: Path
    vault: VaultSection
    sync: SyncSection
    state: StateSection
    targets: tuple[Target, ...]
    daemon: DaemonSection = field(default_factory=lambda: DaemonSection.model_validate({}))

    @property
    def vault_path(self) -> Path:
        return _resolve(self.base_dir, self.vault.path)

    @property
    def state_path(self) -> Path:
        if self.state.path is not None:
            return _resolve(self.base_dir, self.state.path)
        return self.base_dir / ".syncbridge" / "state.db"

    def poll_interval_s(self, target: Target) -> float:
        """Seconds between the daemon's checks of ``target`` for remote changes."""
        own = target.section.poll_interval_s
        return own if own is not None else self.daemon.poll_interval_s

    def target(self, name: str) -> Target:
        """The target called ``name``; ``ConfigError`` listing the known names if none."""
        for target in self.targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in self.targets) or "none"
        raise ConfigError(f"{self._where()}no target named {name!r} (known: {known})")

    def _where(self) -> str:
        return f"{self.path}: " if self.path else ""

    def filters(self, target: Target) -> Filters:
        """The engine's note filters for ``target``."""
        from syncbridge.engine.options import Filters

        s = target.section
        return Filters(
            include=tuple(s.include),
            exclude=tuple(s.exclude),
            classes=tuple(s.classes),
            exclude_classes=tuple(s.exclude_classes),
            exclude_values={k: tuple(v) for k, v in s.exclude_values.items()},
            vault_ignore=tuple(self.vault.ignore),
        )

    def sync_options(
        self, target: Target, *, dry_run: bool = False, force_delete: bool = False
    ) -> SyncOptions:
        """The engine's options for one run on ``target``."""
        from syncbridge.engine.options import SyncOptions

        return SyncOptions(
            target=target.name,
            id_field=self.sync.id_field or None,
            last_modified_field=self.sync.last_modified_field or None,
            timezone=self.vault.timezone,
            conflict=self.sync.conflict_strategy,
            tie_breaker=self.sync.tie_breaker,
            max_delete_fraction=self.sync.max_delete_fraction,
            force_delete=force_delete,
            dry_run=dry_run,
            filters=self.filters(target),
            update_links=self.vault.update_links,
        )


def _resolve(base_dir: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base_dir / path


def _key_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """``('targets', 0, 'adapter')`` → ``targets[0].adapter``."""
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _messages(exc: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{_key_path(loc, prefix)}: {message}")
    return lines


def _fail(where: str, lines: Sequence[str]) -> ConfigError:
    if len(lines) == 1:
        return ConfigError(f"{where}{lines[0]}")
    return ConfigError(f"{where}{len(lines)} problems:\n  " + "\n  ".join(lines))


def _adapter_class(name: str) -> type[Adapter]:
    """The adapter class registered as ``name`` (entry-point group ``syncbridge.adapters``)."""
    from syncbridge.registry import load_adapter

    return load_adapter(name)


def parse_config(data: Mapping[str, Any], *, base_dir: Path, path: Path | None = None) -> Config:
    """Validate already-parsed TOML ``data``; ``ConfigError`` lists every problem with its
    key path. Imports the adapters the targets name (nothing else happens)."""
    where = f"{path}: " if path else ""
    problems: list[str] = []
    parsed: _File | None = None
    try:
        parsed = _File.model_validate(dict(data))
    except ValidationError as exc:
        problems.extend(_messages(exc))
    raw_targets = data.get("targets")
    targets: list[Target] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_targets if isinstance(raw_targets, list) else []):
        if not isinstance(raw, dict):
            continue  # reported by _File already
        prefix = f"targets[{index}]"
        common = {k: v for k, v in raw.items() if k in _TARGET_KEYS}
        own = {k: v for k, v in raw.items() if k not in _TARGET_KEYS}
        try:
            section = TargetSection.model_validate(common)
        except ValidationError as exc:
            problems.extend(_messages(exc, prefix))
            continue
        if section.name in seen:
            problems.append(f"{prefix}.name: duplicate target name {section.name!r}")
        seen.add(section.name)
        try:
            adapter_class = _adapter_class(section.adapter)
        except AdapterNotFound as exc:
            problems.append(f"{prefix}.adapter: {exc}")
            continue
        try:
            settings = adapter_class.config_model.model_validate(own)
        except ValidationError as exc:
            problems.extend(_messages(exc, prefix))
            continue
        targets.append(Target(section, adapter_class, settings, base_dir))
    if problems or parsed is None:
        raise _fail(where, problems)
    config = Config(
        path=path,
        base_dir=base_dir,
        vault=parsed.vault,
        sync=parsed.sync,
        state=parsed.state,
        targets=tuple(targets),
        daemon=parsed.daemon,
    )
    problems = _file_problems(config)
    if problems:
        raise _fail(where, problems)
    return config


def _written_files(config: Config) -> list[tuple[str, Path]]:
    """``(key, absolute path)`` of every file syncbridge itself writes: the state file and
    each file-valued setting of a target (a SQLite database, a cache)."""
    files = [("state.path", config.state_path)]
    for index, target in enumerate(config.targets):
        for name in type(target.settings).model_fields:
            value = getattr(target.settings, name)
            if isinstance(value, Path):
                files.append((f"targets[{index}].{name}", _resolve(config.base_dir, value)))
    return files


def _file_problems(config: Config) -> list[str]:
    """What is wrong with the files syncbridge would write (checked before anything is
    opened): one that is a folder, one among the notes (a note could be taken for a
    damaged database and replaced by ``repair``; a database there would be synced by
    other tools while open; ``.obsidian/`` holds Obsidian's own files), the state file
    shared with a target's file. A file under a ``.syncbridge/`` folder of the vault (the
    default beside a config file kept in the vault's root) is fine: the vault never reads
    it."""
    vault = Path(os.path.realpath(config.vault_path))
    problems = []
    files = _written_files(config)
    for key, file in files:
        real = Path(os.path.realpath(file))
        example = "state.db" if key == "state.path" else "local.db"
        if real.is_dir() or real == vault:
            problems.append(f"{key}: {file} is a folder; name a file (e.g. {example})")
        elif real.exists() and not real.is_file():
            problems.append(
                f"{key}: {file} is not a regular file (a device or socket); name a file"
            )
        elif real.is_relative_to(vault) and ".syncbridge" not in real.relative_to(vault).parts[:-1]:
            problems.append(
                f"{key}: {file} is inside the vault {config.vault_path}; syncbridge would "
                "write its own file among your notes: put it outside the vault (a path "
                "relative to the config file's folder, such as the default beside it)"
            )
    state = Path(os.path.realpath(config.state_path))
    for key, file in files[1:]:
        if Path(os.path.realpath(file)) == state:
            problems.append(
                f"{key}: {file} is also the state file (state.path); each needs its own "
                "file: give one of them another name"
            )
    return problems


def load_config(path: Path | str) -> Config:
    """Read and validate the TOML file at ``path`` (relative paths in it resolve against
    its folder). ``ConfigError`` if it is missing, not TOML, or invalid."""
    file = Path(path).expanduser().absolute()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such file; create it (see config.example.toml) or pass --config FILE"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    return parse_config(data, base_dir=file.parent, path=file)


def find_config(start: Path | None = None) -> Path:
    """``syncbridge.toml`` in ``start`` (default: the working dir); ``ConfigError`` if absent."""
    folder = (start or Path.cwd()).absolute()
    candidate = folder / DEFAULT_CONFIG_NAME
    if candidate.is_file():
        return candidate
    raise ConfigError(
        f"no {DEFAULT_CONFIG_NAME} in {folder}; pass --config FILE or create one "
        "(config.example.toml documents every key)"
    )
