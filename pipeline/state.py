"""``wiredesk run --state URI``: the launcher's side of the state carried between runs.

Layout under URI (a local directory or any Beam filesystem):

    CURRENT                     the version the next run reads: one line, ``v-<run_id>``
    v-<run_id>/_manifest.json   header (the parameters that shaped it), files with rows, bytes and SHA-256, the
                                latest time seen, the version it was built from (``parent``), the input's
                                fingerprint
    v-<run_id>/canonicals/part-SSSSS.parquet, v-<run_id>/df/part-00000.parquet

A run reads the version CURRENT names (refused when its header differs from this run's parameters, or when the
version is torn: no manifest, a file missing or of another size; workers check SHA-256 and row counts as they
read), writes the next state into a new version folder while it runs, and only after the run's outputs are
committed writes the manifest, then ``CURRENT.tmp`` and renames it to ``CURRENT`` (atomic on a local
filesystem; on an object store one small object is replaced by a copy, itself atomic). Versions other than the
new one and its parent are then removed.

Reruns: a run whose input is the one that built the current version (the same files, sizes and modification
times) is a retry of that step: it reads the current version's parent, so it writes the same rows and the same
state again instead of deduplicating its stories against themselves.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from apache_beam.io.filesystems import FileSystems

from wiredesk.transforms.state.header import differences, header_json, refusal
from wiredesk.transforms.state.transforms import FILES

__all__ = ["StateError", "StatePlan", "plan_state", "commit_state", "input_fingerprint", "CURRENT", "MANIFEST",
           "plan_from_options", "header_from_options"]

CURRENT = "CURRENT"
MANIFEST = "_manifest.json"
#: Default retention horizon, in days.
HORIZON_DAYS = 7.0


class StateError(ValueError):
    """The state cannot be used; the message says why and how to rebuild it."""


def _local(uri: str) -> bool:
    return "://" not in uri


def _join(*parts: str) -> str:
    return FileSystems.join(*parts)


def _read(path: str) -> str:
    with FileSystems.open(path) as fh:
        return fh.read().decode("utf-8")


def _write(path: str, text: str) -> None:
    with FileSystems.create(path) as fh:
        fh.write(text.encode("utf-8"))


@dataclass
class StatePlan:
    """What a run reads and writes of a state."""

    uri: str
    header: Dict[str, str]
    horizon_days: float
    #: The version read (None: no state yet) and its manifest.
    base: Optional[str]
    base_manifest: Optional[Dict]
    #: The version this run writes.
    version: str
    fingerprint: str
    run_id: str
    retry: bool = False
    files: List[Dict] = field(default_factory=list)

    @property
    def header_json(self) -> str:
        return header_json(self.header)

    @property
    def base_dir(self) -> Optional[str]:
        return _join(self.uri, self.base) if self.base else None

    @property
    def version_dir(self) -> str:
        return _join(self.uri, self.version)

    @property
    def prior_latest(self) -> Optional[float]:
        return (self.base_manifest or {}).get("latest_seen_at")


def input_fingerprint(paths: Sequence[str]) -> str:
    """The run's input as files, sizes and modification times (cheap: metadata only)."""
    from wiredesk.transforms.read import expand_path

    found = sorted((m.path, m.size_in_bytes, getattr(m, "last_updated_in_seconds", 0.0))
                   for path in paths for m in expand_path(path))
    return hashlib.blake2b(json.dumps(found).encode("utf-8"), digest_size=12).hexdigest()


def current_version(uri: str) -> Optional[str]:
    path = _join(uri, CURRENT)
    if not FileSystems.exists(path):
        return None
    version = _read(path).strip()
    if not version or "/" in version:
        raise StateError(f"--state {uri}: {CURRENT} names no version ({version!r}): the state is torn; delete "
                         f"{uri} or use a new --state path")
    return version


def load_manifest(uri: str, version: str) -> Dict:
    """A version's manifest, refused when the version is torn (no manifest, a file missing or of another size)."""
    base = _join(uri, version)
    path = _join(base, MANIFEST)
    rebuild = f"delete {uri} or use a new --state path"
    if not FileSystems.exists(path):
        raise StateError(f"--state {uri}: version {version} has no {MANIFEST}: the state is torn; {rebuild}")
    try:
        manifest = json.loads(_read(path))
        files = manifest["files"]
    except (ValueError, KeyError) as exc:
        raise StateError(f"--state {uri}: {path} is not a state manifest ({exc}); {rebuild}") from None
    sizes = {m.path: m.size_in_bytes for m in FileSystems.match([base.rstrip("/") + "/**"])[0].metadata_list}
    for entry in files:
        file_path = _join(base, entry["name"])
        size = sizes.get(file_path)
        if size is None:
            raise StateError(f"--state {uri}: {file_path} is in the manifest but missing: the state is torn; "
                             f"{rebuild}")
        if size != entry["size"]:
            raise StateError(f"--state {uri}: {file_path} has {size} bytes, the manifest says {entry['size']}: the "
                             f"state is torn; {rebuild}")
    return manifest


def _unique_version(uri: str, run_id: str) -> str:
    name, n = f"v-{run_id}", 1
    while FileSystems.exists(_join(uri, name)):
        n += 1
        name = f"v-{run_id}-{n}"
    return name


def plan_state(uri: str, header: Dict[str, str], run_id: str, fingerprint: str,
               horizon_days: float = HORIZON_DAYS) -> StatePlan:
    """Check the state at ``uri`` against this run's parameters and choose what the run reads and writes."""
    if not horizon_days or horizon_days <= 0:
        raise StateError(f"--state_horizon_days {horizon_days}: expected a positive number of days such as 7")
    base = current_version(uri)
    manifest = load_manifest(uri, base) if base else None
    retry = False
    if manifest is not None:
        diffs = differences(manifest.get("header", {}), header)
        if diffs:
            raise StateError(refusal(uri, diffs))
        if manifest.get("fingerprint") == fingerprint:
            # the step that built the current version, again: redo it from the version it started from
            retry = True
            base = manifest.get("parent")
            manifest = load_manifest(uri, base) if base else None
    return StatePlan(uri=uri, header=header, horizon_days=horizon_days, base=base, base_manifest=manifest,
                     version=_unique_version(uri, run_id), fingerprint=fingerprint, run_id=run_id, retry=retry,
                     files=list((manifest or {}).get("files", [])))


def header_from_options(options) -> Dict[str, str]:
    from wiredesk.pipeline.options import WiredeskOptions, dedup_config, event_config
    from wiredesk.transforms.state.header import state_header

    return state_header(dedup_config(options), event_config(options), options.view_as(WiredeskOptions).spacy_model)


def plan_from_options(options, run_id: Optional[str] = None) -> StatePlan:
    """``plan_state`` for ``--state``, ``--state_horizon_days`` and this run's parameters and inputs."""
    from wiredesk.pipeline.options import WiredeskOptions, input_paths

    wd = options.view_as(WiredeskOptions)
    return plan_state(wd.state, header_from_options(options), run_id or wd.run_id or "unnamed",
                      input_fingerprint(input_paths(options)), wd.state_horizon_days)


def _remove(path: str) -> None:
    if _local(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    left = [m.path for m in FileSystems.match([path.rstrip("/") + "/**"])[0].metadata_list]
    if left:
        FileSystems.delete(left)


def versions(uri: str) -> List[str]:
    """The version folders under the state."""
    if _local(uri):
        return sorted(n for n in os.listdir(uri) if n.startswith("v-")) if os.path.isdir(uri) else []
    found = set()
    for m in FileSystems.match([uri.rstrip("/") + "/v-*/**"])[0].metadata_list:
        found.add(m.path[len(uri.rstrip("/")) + 1:].split("/", 1)[0])
    return sorted(found)


def commit_state(plan: StatePlan) -> Dict:
    """After the run's outputs are committed: the manifest, then the pointer swap, then old versions removed."""
    listing_path = _join(plan.version_dir, FILES)
    listing = json.loads(_read(listing_path))
    manifest = {
        "version": plan.version, "run_id": plan.run_id, "parent": plan.base, "fingerprint": plan.fingerprint,
        "header": plan.header, "horizon_days": plan.horizon_days, "latest_seen_at": listing["latest_seen_at"],
        "rows": {t: sum(f["rows"] for f in listing["files"] if f["table"] == t) for t in ("canonicals", "df")},
        "files": listing["files"],
    }
    _write(_join(plan.version_dir, MANIFEST), json.dumps(manifest, indent=1))
    FileSystems.delete([listing_path])
    tmp, current = _join(plan.uri, CURRENT + ".tmp"), _join(plan.uri, CURRENT)
    _write(tmp, plan.version + "\n")
    if _local(plan.uri):
        os.replace(tmp, current)
    else:
        # object stores: a copy replaces the one object at once (there is never a moment without CURRENT)
        FileSystems.copy([tmp], [current])
        FileSystems.delete([tmp])
    for version in versions(plan.uri):
        if version not in (plan.version, plan.base):
            _remove(_join(plan.uri, version))
    return manifest
