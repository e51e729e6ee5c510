"""``aws:RequestTag/<key>`` and ``aws:TagKeys``: the tags a request sets or removes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

#: Request members that carry tags, in any of the services' spellings.
TAG_MEMBERS = frozenset({"Tags", "tags", "TagsList", "TagList", "TagKeys", "tagKeys"})


def request_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """The condition keys of tags a request sets."""
    pairs = list(pairs)
    context = {f"aws:RequestTag/{key}": (value,) for key, value in pairs}
    if pairs:
        context["aws:TagKeys"] = tuple(dict.fromkeys(key for key, _ in pairs))
    return context


def removed_tags(keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The condition keys of tags a request removes (only ``aws:TagKeys``)."""
    keys = tuple(dict.fromkeys(keys))
    return {"aws:TagKeys": keys} if keys else {}


@dataclass(frozen=True)
class TagReader:
    """Reads the tag condition keys from one request member, shaped as the model says."""

    member: str
    kind: str  # "map" ({key: value}), "pairs" ([{Key, Value}]) or "keys" ([key])
    removing: bool

    @classmethod
    def for_member(
        cls, member: str, shape: Shape, *, removing: bool
    ) -> TagReader | None:
        """A reader for ``member`` (an operation that removes tags sets no values), or None."""
        kind = _kind(shape) if member in TAG_MEMBERS else None
        if kind is None:
            return None
        return cls(member, kind, removing or kind == "keys")

    def read(self, params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        """The condition keys this member's value gives."""
        value = params.get(self.member)
        if not value:
            return {}
        pairs = _pairs(value, self.kind)
        if self.removing:
            return removed_tags(key for key, _ in pairs)
        return request_tags(pairs)


def _kind(shape: Shape) -> str | None:
    if shape.type_name == "map":
        return "map"
    if shape.type_name != "list":
        return None
    member = shape.member
    if member.type_name == "string":
        return "keys"
    names = {name.lower() for name in getattr(member, "members", {})}
    return "pairs" if {"key", "value"} <= names else None


def _pairs(value: Any, kind: str) -> list[tuple[str, str]]:
    if kind == "map":
        return [(str(key), str(item)) for key, item in value.items()]
    if kind == "keys":
        return [(str(key), "") for key in value]
    pairs = []
    for tag in value:
        lowered = {name.lower(): item for name, item in tag.items()}
        pairs.append((str(lowered.get("key", "")), str(lowered.get("value", ""))))
    return pairs
