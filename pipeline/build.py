"""``build_pipeline``: wires wiredesk's stages into a Beam pipeline.

read -> normalize -> versions -> near duplicates -> entities and events -> write. Returns every stage's outputs so tests
(and other pipelines) can reach them.
"""
from __future__ import annotations

from typing import Dict, Optional

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from wiredesk.pipeline.options import WiredeskOptions, dedup_config, event_config, input_paths, target_file_bytes
from wiredesk.transforms.dedup import NearDuplicates
from wiredesk.transforms.events import ClusterEvents
from wiredesk.transforms.normalize import Normalize
from wiredesk.transforms.read import ReadWire
from wiredesk.transforms.versions import ResolveVersions
from wiredesk.transforms.write import SORT_KEYS, WriteCounts, WriteTable

#: The tables a run writes, each under OUTPUT/<name>/.
TABLE_NAMES = ("articles", "rejects", "superseded", "duplicates", "events")


def build_pipeline(p: beam.Pipeline, options: PipelineOptions,
                   output_dir: Optional[str] = None) -> Dict[str, beam.PCollection]:
    """Add wiredesk's stages to ``p``.

    ``output_dir`` overrides ``--output`` (the runner writes a run aside, then
    moves it into place); pass ``""`` to build without writing anything.
    """
    wd = options.view_as(WiredeskOptions)
    base = wd.output if output_dir is None else output_dir

    read = p | "Read" >> ReadWire(input_paths(options), wd.raw_max_chars)
    normalized = read["records"] | "Normalize" >> Normalize(wd.raw_max_chars)
    versions = normalized["articles"] | "Versions" >> ResolveVersions()
    deduped = versions["articles"] | "NearDuplicates" >> NearDuplicates(dedup_config(options))
    events = deduped["articles"] | "Events" >> ClusterEvents(event_config(options), model_name=wd.spacy_model)

    rejects = (read["rejects"], normalized["rejects"]) | "AllRejects" >> beam.Flatten()
    outputs = {
        "records": read["records"],
        "read_rejects": read["rejects"],
        "normalize_rejects": normalized["rejects"],
        "rejects": rejects,
        "versions": versions["articles"],
        "articles": events["articles"],
        "events": events["events"],
        "duplicates": deduped["duplicates"],
        "superseded": versions["superseded"],
    }
    if base:
        for table in TABLE_NAMES:
            outputs[f"written_{table}"] = outputs[table] | f"Write[{table}]" >> WriteTable(
                base, table, SORT_KEYS[table], target_file_bytes(options))
        counted = {
            name: outputs[name]
            for name in ("records", "read_rejects", "normalize_rejects", "articles", "superseded", "duplicates",
                         "events")
        }
        # The files each sink finalized: the runner checks that they are all in place before committing the run.
        counted.update({f"files_{table}": outputs[f"written_{table}"] for table in TABLE_NAMES})
        outputs["counts"] = counted | "Counts" >> WriteCounts(base)
    return outputs
