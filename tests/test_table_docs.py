"""docs/tables.md is generated from the schemas, every column has a description, and the schema version lands in
the Parquet files and the manifest."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from wiredesk.schemas import docs, tables
from wiredesk.schemas.records import Duplicate


@pytest.mark.parametrize("name", sorted(tables.TABLES))
def test_every_column_has_a_description(name):
    missing = [path for path, f in tables.walk(tables.TABLES[name]) if not (tables.description(f) or "").strip()]
    assert missing == [], f"{name}: columns without a description: {missing}"


def test_nested_fields_are_walked():
    paths = [path for path, _ in tables.walk(tables.ARTICLES)]
    assert ["entities", "entities[].text", "entities[].label", "entities[].norm"] == \
        [p for p in paths if p.startswith("entities")]
    assert "top_entities[].count" in [path for path, _ in tables.walk(tables.EVENTS)]


def test_a_field_without_description_is_found():
    bare = pa.schema([pa.field("a", pa.string()), tables.field("b", pa.string(), "B.")])
    assert [p for p, f in tables.walk(bare) if not tables.description(f)] == ["a"]


def test_docs_file_is_what_the_generator_writes():
    current = (REPO / "docs" / "tables.md").read_text(encoding="utf-8")
    assert current == docs.render(), "docs/tables.md is out of date: run python -m wiredesk.schemas.docs"
    assert docs.main(["--check", str(REPO / "docs" / "tables.md")]) == 0


def test_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "tables.md"
    stale.write_text(docs.render().replace("| `article_id` |", "| `story_id` |", 1), encoding="utf-8")
    assert docs.main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_docs_list_every_column_with_its_type_and_the_policy():
    text = docs.render()
    for name, schema in tables.TABLES.items():
        assert f"## `{name}`" in text
        for path, f in tables.walk(schema):
            assert f"| `{path}` | {docs.type_name(f.type)} |" in text
    assert "| `published_at` | timestamp[us, UTC] | yes |" in text
    assert "| `entities` | list<struct> | yes |" in text
    assert f"Schema version: **{tables.SCHEMA_VERSION}**" in text
    assert "## Changing the schemas" in text and "bump MINOR" in text and "bump MAJOR" in text


@pytest.mark.parametrize("name", sorted(tables.TABLES))
def test_schemas_carry_name_and_version(name):
    meta = tables.TABLES[name].metadata
    assert meta[b"wiredesk.table"] == name.encode()
    assert meta[b"wiredesk.schema_version"] == tables.SCHEMA_VERSION.encode()
    major, minor = tables.SCHEMA_VERSION.split(".")
    assert major.isdigit() and minor.isdigit()


def test_written_files_carry_version_and_descriptions(tmp_path):
    """Through the write stage (Beam's file sink and wiredesk's Parquet sink), read back: the schema-level
    metadata and each column's description are in the file."""
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    from wiredesk.transforms.write import SORT_KEYS, WriteTable

    with TestPipeline() as p:
        _ = (p | beam.Create([Duplicate("a", "b", "exact", 1.0, 1.0)])
             | WriteTable(str(tmp_path), "duplicates", SORT_KEYS["duplicates"]))
    files = sorted((tmp_path / "duplicates").glob("*.parquet"))
    assert len(files) == 1
    schema = pq.read_schema(files[0])
    assert schema.metadata[b"wiredesk.schema_version"] == tables.SCHEMA_VERSION.encode()
    assert schema.metadata[b"wiredesk.table"] == b"duplicates"
    assert [tables.description(f) for f in schema] == [tables.description(f) for f in tables.DUPLICATES]
