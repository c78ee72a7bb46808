"""Checks against the MAX Bot API OpenAPI file, for the fake server in ``max_api.py``.

``validate(value, "NewMessageBody")`` raises ``SchemaError`` where the real API answers
400 ``proto.payload``. The limits (text 4000, button text 128, callback payload 1024, enums,
required fields...) all come from ``tests/data/specs/max/openapi.json``, read once.

Where the file is loose, it is read like this:
- a required property that is nullable may be left out (the spec's own examples send a
  NewMessageBody without ``link``); a required name that the schema never declares is
  ignored (MessageBody ``link``, Chat ``description``);
- ``minLength`` on an array means ``minItems`` (keyboard ``buttons``);
- no schema sets ``additionalProperties: false``, so unknown properties pass (maxapi sends
  ``intent`` on every callback button, which the schema does not declare);
- ChatType lists only ``chat``; the API also returns ``dialog`` and ``channel``;
- string lengths are counted in UTF-16 units (the API is written in Java): the stricter
  reading, it only differs for characters outside the BMP such as emoji.
The keyboard counts (rows, buttons per row, total) are not in the file: the documentation
site states them, ``keyboard_limits()`` uses those unless the file gains ``maxItems``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "specs" / "max" / "openapi.json"
REF_PREFIX = "#/components/schemas/"
# dev.max.ru, "Клавиатура": up to 210 buttons in up to 30 rows, up to 7 per row, up to 3 per
# row for the "wide" kinds. Not in openapi.json (checked by a test, so a new file is noticed).
DOCUMENTED_KEYBOARD = {"rows": 30, "per_row": 7, "per_row_wide": 3, "total": 210}
WIDE_BUTTONS = {"link", "open_app", "request_geo_location", "request_contact"}
EXTRA_ENUM = {"ChatType": ["dialog", "channel"]}
# Query parameters every method takes besides its own (the API version, see info.description).
COMMON_QUERY = {"v"}


class SchemaError(Exception):
    """A value does not match the schema; ``str()`` names the place, e.g. ``text: ...``."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    data = json.loads(SPEC_PATH.read_text("utf-8"))
    for name, extra in EXTRA_ENUM.items():
        data["components"]["schemas"][name]["enum"] += extra
    return data


def schemas() -> dict[str, dict]:
    return spec()["components"]["schemas"]


def schema(name: str) -> dict:
    return schemas()[name]


def _ref_name(ref: str) -> str:
    return ref.removeprefix(REF_PREFIX)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def update_types() -> list[str]:
    return list(schema("Update")["discriminator"]["mapping"])


def validate(value: Any, name_or_schema: str | dict, where: str = "") -> None:
    """Raise SchemaError unless ``value`` matches the named schema (or schema dict)."""
    node = {"$ref": REF_PREFIX + name_or_schema} if isinstance(name_or_schema, str) else name_or_schema
    _check(value, node, where, frozenset())


def _check(value: Any, node: dict, where: str, via: frozenset[str]) -> None:  # noqa: C901, PLR0912
    """``via``: base schemas already dispatched through their discriminator."""
    if value is None:
        if node.get("nullable") or _nullable(node):
            return
        raise SchemaError(where, "must not be null")
    name = None
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        node = schemas()[name]
    for part in node.get("allOf", []):
        _check(value, part, where, via)
    disc = node.get("discriminator")
    if disc and name not in via and isinstance(value, dict):
        key = disc["propertyName"]
        if key not in value:
            raise SchemaError(_join(where, key), "is required")
        mapping = disc.get("mapping", {})
        target = mapping.get(value[key])
        if target is None:
            raise SchemaError(_join(where, key), f"{value[key]!r} is not one of {sorted(mapping)}")
        ref = target["$ref"] if isinstance(target, dict) else target
        _check(value, {"$ref": ref}, where, via | {name} if name else via)
        return
    kind = node.get("type") or ("object" if "properties" in node else None)
    _check_type(value, kind, where)
    if "enum" in node and value not in node["enum"]:
        raise SchemaError(where, f"{value!r} is not one of {node['enum']}")
    if isinstance(value, str):
        _check_string(value, node, where)
    elif isinstance(value, list):
        _check_array(value, node, where, via)
    elif isinstance(value, dict):
        _check_object(value, node, where, via)


def _nullable(node: dict) -> bool:
    if "$ref" in node:
        node = schemas()[_ref_name(node["$ref"])]
    return bool(node.get("nullable"))


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _check_type(value: Any, kind: str | None, where: str) -> None:
    ok = {
        None: True,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
    }.get(kind, True)
    if not ok:
        raise SchemaError(where, f"must be {kind}, got {type(value).__name__}")


def _check_string(value: str, node: dict, where: str) -> None:
    size = _utf16_len(value)
    if "maxLength" in node and size > node["maxLength"]:
        raise SchemaError(where, f"length {size} is more than maxLength {node['maxLength']}")
    if "minLength" in node and size < node["minLength"]:
        raise SchemaError(where, f"length {size} is less than minLength {node['minLength']}")
    if "pattern" in node and not re.search(node["pattern"], value):
        raise SchemaError(where, f"does not match {node['pattern']}")


def _check_array(value: list, node: dict, where: str, via: frozenset[str]) -> None:
    most = node.get("maxItems")
    least = node.get("minItems", node.get("minLength"))
    if most is not None and len(value) > most:
        raise SchemaError(where, f"{len(value)} items, maxItems is {most}")
    if least is not None and len(value) < least:
        raise SchemaError(where, f"{len(value)} items, minItems is {least}")
    if node.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) < len(value):
        raise SchemaError(where, "items must be unique")
    if "items" in node:
        for i, item in enumerate(value):
            _check(item, node["items"], _join(where, i), via)


def _check_object(value: dict, node: dict, where: str, via: frozenset[str]) -> None:
    props = node.get("properties", {})
    for key in node.get("required", []):
        if key in props and key not in value and not (props[key].get("nullable") or _nullable(props[key])):
            raise SchemaError(_join(where, key), "is required")
    for key, item in value.items():
        if key in props:
            _check(item, props[key], _join(where, key), via)
        elif isinstance(node.get("additionalProperties"), dict):
            _check(item, node["additionalProperties"], _join(where, key), via)


# ------------------------------------------------------------------ keyboards
def keyboard_limits() -> dict[str, int]:
    """Rows, buttons per row (and per row with a wide button), total: from the file if it has them."""
    buttons = schema("InlineKeyboardAttachmentRequestPayload")["properties"]["buttons"]
    limits = dict(DOCUMENTED_KEYBOARD)
    limits["rows"] = buttons.get("maxItems", limits["rows"])
    limits["per_row"] = buttons["items"].get("maxItems", limits["per_row"])
    return limits


def check_keyboard(payload: dict, where: str) -> None:
    """The counts of an inline keyboard; the buttons themselves were validated already."""
    limits, rows = keyboard_limits(), payload["buttons"]
    if len(rows) > limits["rows"]:
        raise SchemaError(_join(where, "buttons"), f"{len(rows)} rows, at most {limits['rows']}")
    total = 0
    for i, row in enumerate(rows):
        wide = any(b.get("type") in WIDE_BUTTONS for b in row)
        most = limits["per_row_wide"] if wide else limits["per_row"]
        if not row:
            raise SchemaError(_join(_join(where, "buttons"), i), "a row must have a button")
        if len(row) > most:
            kind = " with link/open_app/request_* buttons" if wide else ""
            raise SchemaError(_join(_join(where, "buttons"), i), f"{len(row)} buttons in a row{kind}, at most {most}")
        total += len(row)
    if total > limits["total"]:
        raise SchemaError(_join(where, "buttons"), f"{total} buttons, at most {limits['total']}")


# ------------------------------------------------------------------ paths and query parameters
@functools.lru_cache(maxsize=1)
def routes() -> list[tuple[re.Pattern, str, dict]]:
    """(regex, template, path item) per spec path; ``{param}`` matches its schema pattern."""
    out = []
    for template, item in spec()["paths"].items():
        params = {p["name"]: p.get("schema", {}) for op in item.values() if isinstance(op, dict)
                  for p in op.get("parameters", []) if p.get("in") == "path"}
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>{_anchorless(params.get(m[1], {}))})", template)
        out.append((re.compile(f"^{regex}$"), template, item))
    return out


def _anchorless(param_schema: dict) -> str:
    pattern = param_schema.get("pattern")
    return pattern.strip("^$") if pattern else "[^/]+"


def match_path(path: str) -> tuple[str, dict, dict[str, str]] | None:
    """(template, path item, path params) for a request path, or None."""
    for regex, template, item in routes():
        found = regex.match(path)
        if found:
            return template, item, found.groupdict()
    return None


def check_query(operation: dict, query: dict[str, str]) -> dict[str, Any]:
    """Query parameters converted to their types; unknown, missing or ill-typed ones raise."""
    specs = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
    for name in query:
        if name not in specs and name not in COMMON_QUERY:
            raise SchemaError(name, "unknown parameter")
    out: dict[str, Any] = {}
    for name, param in specs.items():
        if name not in query:
            if param.get("required"):
                raise SchemaError(name, "is required")
            continue
        out[name] = _query_value(query[name], param.get("schema", {}), name)
    return out


def _query_value(raw: str, node: dict, where: str) -> Any:
    if "$ref" in node:
        node = schema(_ref_name(node["$ref"]))
    kind = node.get("type")
    if raw in ("", "null") and node.get("nullable"):
        return None
    if kind == "array":
        return [_query_value(part, node.get("items", {}), where) for part in raw.split(",") if part]
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            raise SchemaError(where, f"{raw!r} is not an integer")
        value: Any = int(raw)
        if "minimum" in node and value < node["minimum"]:
            raise SchemaError(where, f"{value} is less than {node['minimum']}")
        if "maximum" in node and value > node["maximum"]:
            raise SchemaError(where, f"{value} is more than {node['maximum']}")
        return value
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise SchemaError(where, f"{raw!r} is not true or false")
        return raw == "true"
    _check(raw, node, where, frozenset())
    return raw
