"""Flat wire records: ``{"id": ..., "headline": ..., "body": ...}``.

The contract lives in ``schemas/wire_record.schema.json`` (JSON Schema
2020-12) so that the people who send us files can validate against the same
document we do. This module only turns schema errors into reasons a sender
can act on and maps a valid object to a ``WireRecord``.
"""
from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any, Dict, List, Optional, Union

import jsonschema

from wiredesk.schemas.records import Reject, WireRecord

from .common import as_int, body_format_of, new_record, non_empty_str, preview, read_reject

FORMAT = "jsonl"
SCHEMA_FILE = "wire_record.schema.json"

_ARTICLED = {"integer": "an integer", "string": "a string", "array": "an array",
             "object": "an object", "number": "a number", "boolean": "a boolean"}

_JSON_TYPE_NAMES = {
    dict: "an object", list: "an array", str: "a string", bool: "a boolean",
    int: "an integer", float: "a number", type(None): "null",
}


@functools.lru_cache(maxsize=1)
def validator() -> jsonschema.protocols.Validator:
    """The schema validator, loaded once per process (workers reuse it)."""
    text = resources.files("wiredesk.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def json_type_name(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _field(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(record)"


def _describe(error: jsonschema.ValidationError) -> str:
    """One schema error as a sentence that says how to fix the record."""
    field = _field(error)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        if missing == "id":
            return ("missing required field 'id': add a non-empty string id "
                    "that stays the same across versions of the story")
        return f"missing required field '{missing}'"
    if error.validator == "anyOf" and not error.absolute_path:
        return ("no text: the record needs a non-empty 'headline' or 'body' "
                "string")
    if error.validator == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_ARTICLED.get(t, t) for t in expected if t != "null")
        hint = ""
        if "integer" in expected and isinstance(error.instance, str):
            hint = ": write the number without quotes"
        elif "string" in expected and not isinstance(error.instance, str):
            hint = ": put the value in quotes"
        return (f"field '{field}' must be {wanted}, got "
                f"{json_type_name(error.instance)} {preview(error.instance)}{hint}")
    if error.validator == "pattern" and field == "id":
        return "field 'id' is empty: give a non-empty string id"
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value if v is not None)
        return f"field '{field}' is {preview(error.instance)}; allowed: {allowed}"
    return f"field '{field}': {error.message}"


def schema_problems(obj: Dict[str, Any]) -> List[str]:
    """Every way ``obj`` breaks the flat schema, most basic first."""
    errors = sorted(validator().iter_errors(obj),
                    key=lambda e: (e.validator != "required", not e.absolute_path,
                                   [str(p) for p in e.absolute_path]))
    return [_describe(e) for e in errors]


def record_from_object(obj: Dict[str, Any], raw: str, origin: str,
                       position: str, ingested_at: Optional[str]
                       ) -> Union[WireRecord, Reject]:
    """Validate one flat object and map it to a WireRecord, or reject it."""
    problems = schema_problems(obj)
    article_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    if problems:
        return read_reject("invalid flat wire record: " + "; ".join(problems),
                           origin, position, raw, FORMAT, article_id)
    body = non_empty_str(obj.get("body"))
    return new_record(
        article_id=obj["id"], input_format=FORMAT, origin=origin,
        position=position, ingested_at=ingested_at, raw=raw,
        source=non_empty_str(obj.get("source")),
        headline=non_empty_str(obj.get("headline")),
        body=body, body_format=body_format_of(body),
        byline=non_empty_str(obj.get("byline")),
        dateline=non_empty_str(obj.get("dateline")),
        language=non_empty_str(obj.get("language")),
        url=non_empty_str(obj.get("url")),
        published_at=non_empty_str(obj.get("published_at")),
        version=as_int(obj.get("version")),
        version_created=non_empty_str(obj.get("version_created")),
        status=obj.get("status"),
        urgency=as_int(obj.get("urgency")),
        subjects=obj.get("subjects") or [],
    )
