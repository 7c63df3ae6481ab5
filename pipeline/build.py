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
                   output_dir: Optional[str] = None, state_plan=None) -> Dict[str, beam.PCollection]:
    """Add wiredesk's stages to ``p``.

    ``output_dir`` overrides ``--output`` (the runner writes a run aside, then
    moves it into place); pass ``""`` to build without writing anything.
    ``state_plan`` (``pipeline.state.plan_state``; made here from ``--state``
    when not given): the state read and the new version written (the caller
    commits it, ``pipeline.state.commit_state``).
    """
    wd = options.view_as(WiredeskOptions)
    base = wd.output if output_dir is None else output_dir
    if state_plan is None and wd.state:
        from wiredesk.pipeline.state import plan_from_options
        state_plan = plan_from_options(options)

    read = p | "Read" >> ReadWire(input_paths(options), wd.raw_max_chars)
    normalized = read["records"] | "Normalize" >> Normalize(wd.raw_max_chars)
    versions = normalized["articles"] | "Versions" >> ResolveVersions()
    prior = None
    if state_plan is not None and state_plan.base:
        from wiredesk.transforms.state import PriorInputs, ReadState
        state = p | "ReadState" >> ReadState(state_plan.base_dir, state_plan.files, state_plan.header_json)
        prior = (state["canonicals"], versions["articles"]) | "Prior" >> PriorInputs()
    dedup_in = versions["articles"] if prior is None else (versions["articles"], prior["dedup"])
    deduped = dedup_in | "NearDuplicates" >> NearDuplicates(dedup_config(options))
    events_in = deduped["articles"] if prior is None else (deduped["articles"], prior["events"], state["df"])
    events = events_in | "Events" >> ClusterEvents(event_config(options), model_name=wd.spacy_model,
                                                     with_state=state_plan is not None)

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
    if state_plan is not None:
        from wiredesk.transforms.state import BuildState
        state_in = {"articles": events["articles"], "keys": deduped["members"], "members": events["members"],
                    "merges": events["merges"], "df": events["df"], "candidates": events["candidates"],
                    "prior": None if prior is None else prior["rows"]}
        state_in = {k: v for k, v in state_in.items() if v is not None}
        outputs["state"] = state_in | "State" >> BuildState(
            state_plan.version_dir, state_plan.header_json, state_plan.horizon_days, state_plan.prior_latest)
    return outputs
