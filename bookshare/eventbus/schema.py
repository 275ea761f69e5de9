"""Typed, versioned, frozen domain events with strict payload validation.

An event class is a frozen, keyword-only dataclass of its payload fields::

    @dataclass(frozen=True, kw_only=True)
    class UserRegistered(Event):
        event_type = "UserRegistered"
        version = 1
        source = "accounts"

        user_id: int
        email: str

Constructing it checks every field's type; `from_data()` also rejects unknown and
missing keys. A later version registers an upcaster from the previous one, so events
stored at an older version still reach consumers written for the newest.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar


class EventSchemaError(ValueError):
    """A payload does not match its event's schema."""


_TYPES: dict[str, dict[int, type[Event]]] = {}
_UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


class Event:
    """Base class of every domain event payload. Subclass it as a frozen dataclass."""

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    source: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not dataclasses.is_dataclass(self):  # pragma: no cover - programming error
            raise TypeError(f"{type(self).__name__} must be a dataclass")
        for name, hint in _field_hints(type(self)):
            _check_value(type(self), name, getattr(self, name), hint)

    # -- (de)serialisation -------------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        return {f.name: _to_json(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Event:
        if not isinstance(data, dict):
            raise EventSchemaError(f"{cls.event_type}: payload must be an object")
        names = {f.name for f in dataclasses.fields(cls)}
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        unknown = set(data) - names
        if unknown:
            raise EventSchemaError(
                f"{cls.event_type} v{cls.version}: unknown field(s) {sorted(unknown)}"
            )
        missing = required - set(data)
        if missing:
            raise EventSchemaError(
                f"{cls.event_type} v{cls.version}: missing field(s) {sorted(missing)}"
            )
        return cls(**data)


def register_event_class(cls: type[Event]) -> type[Event]:
    """Class decorator: record an event class by (type, version). Apply above @dataclass."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__} must be a frozen dataclass")
    if not getattr(cls, "event_type", None):
        raise TypeError(f"{cls.__name__} needs an event_type")
    versions = _TYPES.setdefault(cls.event_type, {})
    existing = versions.get(cls.version)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"{cls.event_type} v{cls.version} is already {existing.__name__}")
    versions[cls.version] = cls
    return cls


def event(cls: type) -> type[Event]:
    """Make `cls` a frozen, keyword-only dataclass and register it. The usual decorator."""
    return register_event_class(dataclasses.dataclass(frozen=True, kw_only=True)(cls))


def upcaster(event_type: str, *, from_version: int) -> Callable:
    """Register `fn(data_vN) -> data_vN+1` so stored vN events reach vN+1 consumers."""

    def decorate(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return decorate


def event_class(event_type: str, version: int | None = None) -> type[Event]:
    versions = _TYPES.get(event_type)
    if not versions:
        raise EventSchemaError(f"unknown event type {event_type!r}")
    if version is None:
        return versions[max(versions)]
    try:
        return versions[version]
    except KeyError:
        raise EventSchemaError(f"unknown version {version} of {event_type}") from None


def known_event_types() -> list[str]:
    return sorted(_TYPES)


def load_event(event_type: str, version: int, data: dict, *, target: type[Event]) -> Event:
    """Build `target` from stored data, upcasting older versions step by step."""
    while version < target.version:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            raise EventSchemaError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        data = step(dict(data))
        version += 1
    if version > target.version:
        raise EventSchemaError(
            f"{event_type} v{version} is newer than the consumer's v{target.version}"
        )
    return target.from_data(data)


# -- type checking of payload values ---------------------------------------------------
@functools.cache
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


_SCALARS = (int, str, float, bool)


def _check_value(cls: type, name: str, value: Any, hint: Any) -> None:
    if not _matches(value, hint):
        raise EventSchemaError(
            f"{cls.event_type} v{cls.version}: field {name!r} expects {_hint_name(hint)}, "
            f"got {type(value).__name__} {value!r:.60}"
        )


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if hint is type(None) or hint is None:
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            return False
        (item,) = typing.get_args(hint)[:1] or (Any,)
        return all(_matches(v, item) for v in value)
    if origin is dict:
        key_t, val_t = typing.get_args(hint) or (Any, Any)
        return isinstance(value, dict) and all(
            _matches(k, key_t) and _matches(v, val_t) for k, v in value.items()
        )
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in _SCALARS:
        return isinstance(value, hint)
    raise TypeError(f"unsupported event field type {hint!r}; use JSON types")


def _hint_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint)


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value
