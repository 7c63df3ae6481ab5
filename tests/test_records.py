"""Every record that travels between steps is encoded by its schema, never pickled as "any"."""
import inspect
from typing import Any, List, NamedTuple

import apache_beam as beam
import pytest
from apache_beam.typehints.schemas import named_tuple_to_schema

from wiredesk.schemas import records as stage_records
from wiredesk.transforms.dedup import records as dedup_records
from wiredesk.transforms.events import records as event_records

ANY = "beam:logical:pythonsdk_any:v1"


def row_records():
    for module in (stage_records, dedup_records, event_records):
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, tuple) and hasattr(value, "_fields") \
                    and value.__module__ == module.__name__:
                yield pytest.param(value, id=f"{module.__name__.rsplit('.', 1)[-1]}.{name}")


def any_fields(field_type, path):
    """Paths of the fields whose type is Beam's pickled "any"."""
    kind = field_type.WhichOneof("type_info")
    if kind == "logical_type":
        return [path] if field_type.logical_type.urn == ANY else []
    if kind == "array_type":
        return any_fields(field_type.array_type.element_type, path + "[]")
    if kind == "row_type":
        return [p for f in field_type.row_type.schema.fields for p in any_fields(f.type, f"{path}.{f.name}")]
    return []


@pytest.mark.parametrize("record", list(row_records()))
def test_record_is_schema_encoded(record):
    assert isinstance(beam.coders.registry.get_coder(record), beam.coders.RowCoder)
    schema = named_tuple_to_schema(record)
    assert [p for f in schema.fields for p in any_fields(f.type, f.name)] == []


def test_the_check_finds_pickled_fields():
    """A field Beam cannot type (here ``Any``, as every field is under postponed annotations) is reported."""
    class Loose(NamedTuple):
        name: str
        payload: Any
        items: List[Any]

    schema = named_tuple_to_schema(Loose)
    assert [p for f in schema.fields for p in any_fields(f.type, f.name)] == ["payload", "items[]"]
