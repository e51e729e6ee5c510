"""XML bodies driven by botocore shapes, shared by the query and rest-xml protocols.

Writing follows what botocore's XML response parser reads (element names from
``locationName``, lists wrapped in ``<member>`` unless flattened, maps as ``<entry>``
pairs, ``xmlAttribute`` members as attributes, ``xmlNamespace`` as ``xmlns``); reading
follows what botocore's rest-xml serializer writes. Namespaces are ignored on input.
"""

from __future__ import annotations

import functools
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree
from botocore.model import ServiceModel, Shape
from defusedxml import DefusedXmlException

from shipyard.aws.protocols.values import InvalidValue, from_text, to_text

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;"}
)


class MalformedXml(ValueError):
    """A request body that is not well-formed XML (or uses forbidden constructs)."""


def escape(text: str) -> str:
    """``text`` safe as XML character data (carriage returns survive parsing)."""
    return text.translate(_TEXT_ESCAPES)


def escape_attribute(text: str) -> str:
    """``text`` safe inside a double-quoted XML attribute."""
    return text.translate(_ATTR_ESCAPES)


def service_namespace(service: ServiceModel) -> str:
    """The XML namespace of a service's answers (``https://iam.amazonaws.com/doc/2010-05-08/``)."""
    metadata = service.metadata
    return metadata.get("xmlNamespace") or (
        f"https://{metadata['endpointPrefix']}.amazonaws.com/doc/{metadata['apiVersion']}/"
    )


def xmlns(shape: Shape) -> str:
    """The ``xmlns`` attribute text (with a leading space) that ``shape`` declares, or ``""``."""
    namespace = shape.serialization.get("xmlNamespace")
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return f' xmlns="{escape_attribute(namespace)}"'
    prefix = namespace.get("prefix")
    attribute = f"xmlns:{prefix}" if prefix else "xmlns"
    return f' {attribute}="{escape_attribute(namespace["uri"])}"'


# -- writing ------------------------------------------------------------------------


def write(shape: Shape, value: Any, name: str, out: list[str], attributes: str = "") -> None:
    """Append element ``name`` holding ``value`` of ``shape`` to ``out`` (string pieces).

    ``attributes`` (text with a leading space) is added to the element, e.g. a default
    ``xmlns`` on a document root.
    """
    kind = shape.type_name
    if kind == "structure":
        children: list[str] = []
        attributes += xmlns(shape) + write_members(shape, value, children)
        out.append(f"<{name}{attributes}>")
        out.extend(children)
        out.append(f"</{name}>")
    elif kind == "list":
        member = shape.member
        items = [item for item in value if item is not None]
        if shape.serialization.get("flattened"):
            for item in items:
                write(member, item, name, out)
            return
        item_name = member.serialization.get("name", "member")
        out.append(f"<{name}{attributes}{xmlns(shape)}>")
        for item in items:
            write(member, item, item_name, out)
        out.append(f"</{name}>")
    elif kind == "map":
        _write_map(shape, value, name, out, attributes)
    else:
        out.append(f"<{name}{attributes}>{escape(to_text(shape, value))}</{name}>")


def write_members(shape: Shape, value: dict[str, Any], out: list[str]) -> str:
    """Append the child elements of structure ``value`` to ``out``.

    Returns the text of its ``xmlAttribute`` members, for the caller's start tag. Members
    with an HTTP location (headers, status code) and unknown keys are left out.
    """
    members = shape.members
    attributes = ""
    for key, item in value.items():
        member = members.get(key)
        if item is None or member is None:
            continue
        serialization = member.serialization
        if "location" in serialization:
            continue
        if serialization.get("xmlAttribute"):
            text = escape_attribute(to_text(member, item))
            attributes += f' {serialization["name"]}="{text}"'
        else:
            write(member, item, element_name(member, key), out)
    return attributes


def element_name(member: Shape, member_name: str) -> str:
    """The element name botocore reads for a structure member.

    A flattened list whose items have a ``locationName`` repeats that name; anything
    else uses the member's ``locationName``, else the member name.
    """
    if member.type_name == "list" and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")
        if item_name:
            return item_name
    return member.serialization.get("name", member_name)


def _write_map(shape: Shape, value: dict[Any, Any], name: str, out: list[str], attributes: str) -> None:
    key_shape, value_shape = shape.key, shape.value
    key_name = key_shape.serialization.get("name", "key")
    value_name = value_shape.serialization.get("name", "value")
    flattened = shape.serialization.get("flattened")
    if not flattened:
        out.append(f"<{name}{attributes}{xmlns(shape)}>")
    entry_name = name if flattened else "entry"
    for key, item in value.items():
        out.append(f"<{entry_name}>")
        write(key_shape, key, key_name, out)
        write(value_shape, item, value_name, out)
        out.append(f"</{entry_name}>")
    if not flattened:
        out.append(f"</{name}>")


# -- reading ------------------------------------------------------------------------


def parse_document(body: bytes) -> Element:
    """The root element of XML ``body``; entities and DTDs are refused (defusedxml)."""
    try:
        return defusedxml.ElementTree.fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXml(str(exc)) from exc


def local_name(tag: str) -> str:
    """``tag`` without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def read(shape: Shape, element: Element) -> Any:
    """The value of ``shape`` that ``element`` holds (raises InvalidValue on bad scalars)."""
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, element)
    if kind == "list":
        return [read(shape.member, child) for child in element]
    if kind == "map":
        if shape.serialization.get("flattened"):
            return _read_entries(shape, [element])
        return _read_entries(shape, list(element))
    text = element.text or ""
    if kind in ("string", "character"):
        return text
    return from_text(shape, text)


def _read_structure(shape: Shape, element: Element) -> dict[str, Any]:
    elements, attributes = _member_names(shape)
    result: dict[str, Any] = {}
    for child in element:
        found = elements.get(local_name(child.tag))
        if found is None:
            continue
        name, member = found
        if member.serialization.get("flattened"):
            if member.type_name == "list":
                result.setdefault(name, []).append(read(member.member, child))
            else:
                result.setdefault(name, {}).update(read(member, child))
        else:
            result[name] = read(member, child)
    if attributes:
        for key, text in element.attrib.items():
            found = attributes.get(local_name(key))
            if found is not None:
                result[found[0]] = from_text(found[1], text)
    return result


def _read_entries(shape: Shape, entries: list[Element]) -> dict[Any, Any]:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    result: dict[Any, Any] = {}
    for entry in entries:
        key = value = None
        for part in entry:
            tag = local_name(part.tag)
            if tag == key_name:
                key = read(shape.key, part)
            elif tag == value_name:
                value = read(shape.value, part)
        if key is None:
            raise InvalidValue(f"map entry without <{key_name}>")
        result[key] = value
    return result


@functools.cache
def _member_names(shape: Shape) -> tuple[dict[str, tuple[str, Shape]], dict[str, tuple[str, Shape]]]:
    """Element and attribute local names of a structure's body members -> (name, shape)."""
    elements: dict[str, tuple[str, Shape]] = {}
    attributes: dict[str, tuple[str, Shape]] = {}
    for name, member in shape.members.items():
        serialization = member.serialization
        if "location" in serialization:
            continue
        if serialization.get("xmlAttribute"):
            attributes[serialization["name"].rpartition(":")[2]] = (name, member)
            continue
        elements[serialization.get("name", name)] = (name, member)
        elements.setdefault(element_name(member, name), (name, member))
    return elements, attributes
