"""Versions of the interface spec, and what changed between two of them.

The ministry adjusts interfaces often ("more than 20 test interfaces were adjusted"), so every
campaign records the spec version it ran against, and staff and companies can compare versions.

The registry knows the spec files bundled with the exchange (``ridehail_supervision_spec_v*.json``
in its data directory; the version is the file's top-level ``"version"`` key) and any further
directory listed in ``settings.CONFORMANCE_SPEC_DIRS``. The exchange validates with the current
version (:func:`yunzheng.exchange.spec.get_spec`); older or newer files are loaded only to compare
them. :func:`spec_diff` is pure.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yunzheng.conformance.conf import app_settings
from yunzheng.exchange.spec import FieldSpec, InterfaceSpec, Spec, get_spec, load_spec
from yunzheng.exchange.spec.loader import DATA_DIR

BUNDLED_PATTERN = "ridehail_supervision_spec_v*.json"


@dataclass(frozen=True)
class SpecVersion:
    version: str
    path: Path
    title: str
    current: bool


@functools.cache
def _read_header(path: Path, mtime_ns: int) -> tuple[str, str]:
    with path.open("rb") as fh:
        data = json.load(fh)
    return str(data.get("version", "unversioned")), str(data.get("title", ""))


def _candidate_files() -> list[Path]:
    files = sorted(DATA_DIR.glob(BUNDLED_PATTERN))
    for directory in app_settings.CONFORMANCE_SPEC_DIRS or []:
        files += sorted(Path(directory).glob("*.json"))
    return files


def spec_versions() -> list[SpecVersion]:
    """Every known version, the current one first, then by version string."""
    current = get_spec().version
    found: dict[str, SpecVersion] = {}
    for path in _candidate_files():
        try:
            version, title = _read_header(path, path.stat().st_mtime_ns)
        except (OSError, ValueError):
            continue
        found.setdefault(version, SpecVersion(version, path, title, version == current))
    return sorted(found.values(), key=lambda v: (not v.current, v.version))


@functools.cache
def _load(path: Path, mtime_ns: int) -> Spec:
    return load_spec(path)


def load_version(version: str) -> Spec | None:
    """The spec of a version (the exchange's own object for the current one), or None."""
    current = get_spec()
    if version == current.version:
        return current
    for known in spec_versions():
        if known.version == version:
            return _load(known.path, known.path.stat().st_mtime_ns)
    return None


# ---------------------------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------------------------

#: Field attributes compared, in the order a reader checks them.
FIELD_ATTRIBUTES = (
    "kind",
    "value_type",
    "length",
    "fixed_length",
    "format",
    "required",
    "charset",
    "proto_number",
    "proto_type",
    "name_zh",
)
INTERFACE_ATTRIBUTES = ("ipc_type_code", "http_path", "name_zh", "natural_key")


@dataclass(frozen=True)
class Change:
    attribute: str
    old: Any
    new: Any


@dataclass(frozen=True)
class FieldChange:
    name: str
    name_zh: str
    changes: tuple[Change, ...]
    enum_added: tuple[str, ...] = ()
    enum_removed: tuple[str, ...] = ()
    renamed_from: str = ""


@dataclass(frozen=True)
class InterfaceChange:
    type: str
    name_zh: str
    changes: tuple[Change, ...]
    fields_added: tuple[tuple[str, str], ...]
    fields_removed: tuple[tuple[str, str], ...]
    fields_changed: tuple[FieldChange, ...]

    @property
    def count(self) -> int:
        return (
            len(self.changes) + len(self.fields_added) + len(self.fields_removed) + len(self.fields_changed)
        )


@dataclass(frozen=True)
class SpecDiff:
    old_version: str
    new_version: str
    interfaces_added: tuple[tuple[str, str], ...] = ()
    interfaces_removed: tuple[tuple[str, str], ...] = ()
    interfaces_changed: tuple[InterfaceChange, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not (self.interfaces_added or self.interfaces_removed or self.interfaces_changed)

    @property
    def adjusted_interfaces(self) -> int:
        """Interfaces added, removed or changed - the ministry's "interfaces adjusted"."""
        return len(self.interfaces_added) + len(self.interfaces_removed) + len(self.interfaces_changed)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "value"):  # StrEnum
        return str(value.value)
    return value


def _field_change(old: FieldSpec, new: FieldSpec, *, renamed_from: str = "") -> FieldChange | None:
    changes = tuple(
        Change(attr, _plain(getattr(old, attr)), _plain(getattr(new, attr)))
        for attr in FIELD_ATTRIBUTES
        if getattr(old, attr) != getattr(new, attr)
    )
    old_codes = set(old.enum or {})
    new_codes = set(new.enum or {})
    added = tuple(sorted(new_codes - old_codes))
    removed = tuple(sorted(old_codes - new_codes))
    if not (changes or added or removed or renamed_from):
        return None
    return FieldChange(
        name=new.name,
        name_zh=new.name_zh,
        changes=changes,
        enum_added=added,
        enum_removed=removed,
        renamed_from=renamed_from,
    )


def _interface_change(old: InterfaceSpec, new: InterfaceSpec) -> InterfaceChange | None:
    changes = tuple(
        Change(attr, _plain(getattr(old, attr)), _plain(getattr(new, attr)))
        for attr in INTERFACE_ATTRIBUTES
        if getattr(old, attr) != getattr(new, attr)
    )
    removed_names = [n for n in old.field_map if n not in new.field_map]
    added_names = [n for n in new.field_map if n not in old.field_map]
    # A field that disappeared and one that appeared with the same protobuf number: a rename.
    renamed: dict[str, str] = {}
    for name in added_names:
        number = new.field_map[name].proto_number
        match = next((r for r in removed_names if old.field_map[r].proto_number == number), None)
        if match is not None and match not in renamed.values():
            renamed[name] = match
    field_changes: list[FieldChange] = []
    for name, fspec in new.field_map.items():
        source = renamed.get(name, name if name in old.field_map else None)
        if source is None:
            continue
        change = _field_change(old.field_map[source], fspec, renamed_from=renamed.get(name, ""))
        if change is not None:
            field_changes.append(change)
    added = tuple((n, new.field_map[n].name_zh) for n in added_names if n not in renamed)
    removed = tuple((n, old.field_map[n].name_zh) for n in removed_names if n not in renamed.values())
    if not (changes or added or removed or field_changes):
        return None
    return InterfaceChange(
        type=new.type,
        name_zh=new.name_zh,
        changes=changes,
        fields_added=added,
        fields_removed=removed,
        fields_changed=tuple(field_changes),
    )


def spec_diff(old: Spec, new: Spec) -> SpecDiff:
    """What changed from ``old`` to ``new``: interfaces added/removed, and per interface its own
    attributes, fields added/removed/renamed and each field's type, length, format, requiredness,
    character set, protobuf number/type and code-table codes."""
    added = tuple((t, i.name_zh) for t, i in new.interfaces.items() if t not in old.interfaces)
    removed = tuple((t, i.name_zh) for t, i in old.interfaces.items() if t not in new.interfaces)
    changed = []
    for type_name, iface in new.interfaces.items():
        if type_name in old.interfaces:
            change = _interface_change(old.interfaces[type_name], iface)
            if change is not None:
                changed.append(change)
    return SpecDiff(
        old_version=old.version,
        new_version=new.version,
        interfaces_added=added,
        interfaces_removed=removed,
        interfaces_changed=tuple(changed),
    )
