"""The state header: the parameters that shaped a state, and the refusal of a state written with others.

MinHash signatures, LSH band keys and verification sketches are only comparable under the same shingle size,
permutations, seed, hash, scheme, bands and rows; an earlier canonical is only a duplicate under the same
thresholds; stored event vectors and blocking keys are only comparable under the same feature settings (their
hash is the events feature version) and the same document-frequency sketch and vector layout.
"""
from __future__ import annotations

import hashlib
import json
from typing import Dict, List, Optional

from wiredesk.schemas.state import STATE_FORMAT
from wiredesk.transforms.dedup.config import DedupConfig
from wiredesk.transforms.events.config import EventConfig
from wiredesk.transforms.events.frequencies import DEPTH, WIDTH
from wiredesk.transforms.events.vectors import LAYOUT

__all__ = ["FEATURE_FIELDS", "feature_version", "state_header", "header_json", "differences", "refusal"]

#: The EventConfig fields that shape an article's stored vector and blocking keys.
FEATURE_FIELDS = ("ner_max_chars", "term_max_chars", "headline_from_body", "w_terms", "w_headline", "w_entities",
                  "max_features", "block_keys", "block_max_df", "block_min_max_df", "block_max_df_abs")

#: DedupConfig fields in the header, with the option that sets each (None: not a command-line option).
DEDUP_FIELDS = {"shingle_size": None, "num_perm": None, "seed": None, "hashfunc": None, "scheme": None,
                "bands": None, "rows": None, "jaccard_threshold": "--jaccard_threshold",
                "containment_threshold": "--containment_threshold", "min_contained_shingles": None,
                "sketch_size": None, "source_priority": "--source_priority"}


def feature_version(config: EventConfig, spacy_model: Optional[str] = None) -> str:
    """A hash of what shapes the stored event features (the feature fields, the NER model, the df sketch)."""
    parts = {name: getattr(config, name) for name in FEATURE_FIELDS}
    parts.update(spacy_model=spacy_model or "default", df_sketch=f"{DEPTH}x{WIDTH}", vector_layout=LAYOUT)
    text = json.dumps(parts, sort_keys=True, default=str)
    return "fv-" + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def state_header(dedup: DedupConfig, events: EventConfig, spacy_model: Optional[str] = None) -> Dict[str, str]:
    """Parameter -> value (text) of a state written by a run with these settings."""
    header = {"state_format": STATE_FORMAT}
    for name in DEDUP_FIELDS:
        value = getattr(dedup, name)
        header[name] = ",".join(value) if isinstance(value, tuple) else str(value)
    header["events_feature_version"] = feature_version(events, spacy_model)
    for name in FEATURE_FIELDS:
        header["events." + name] = str(getattr(events, name))
    header["events.spacy_model"] = spacy_model or "default"
    return header


def header_json(header: Dict[str, str]) -> str:
    return json.dumps(header, sort_keys=True)


def differences(stored: Dict[str, str], current: Dict[str, str]) -> List[str]:
    """One line per differing parameter: its name, the state's value and this run's."""
    out = []
    for name in sorted(set(stored) | set(current)):
        if stored.get(name) != current.get(name):
            flag = DEDUP_FIELDS.get(name)
            how = f" (set by {flag})" if flag else ""
            out.append(f"{name}: state {stored.get(name, '(absent)')!s}, this run {current.get(name, '(absent)')!s}"
                       f"{how}")
    return out


def refusal(uri: str, diffs: List[str]) -> str:
    return (f"--state {uri} was written with other parameters than this run's, so its MinHash sketches, LSH keys "
            f"and event vectors cannot be compared with this run's:\n  " + "\n  ".join(diffs) + "\n"
            f"Rebuild it: run with a new --state path (the first run starts from no history), or delete {uri} "
            "(or run with the state's parameters again).")
