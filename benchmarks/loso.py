"""Leave-one-set-out over a small grid of the events knobs (issue 10, item 2).

From each labelled set's wiredesk output (the ``articles`` table of the
quality run with the shipped defaults, kept by ``benchmarks.quality``; read
with ``pyarrow.dataset``, hive partitioning) it rebuilds what the events stage
sees: for every canonical article (``duplicate_of`` null)
``raw_features(headline, body, entities, config)`` and its time
(``epoch_seconds(published_at)``). Those are computed once per set. Every
config of ``GRID`` (27: ``DEFAULT_CONFIG.replace(**cell)``), and each value of a ``PROBES`` knob with the
rest at the defaults, is then clustered
with ``wiredesk.transforms.events.reference.cluster_articles`` (the
one-process twin of the Beam stage; its document frequencies are exact where
the run's are a count-min sketch), a copy takes its canonical's cluster, and
the result is scored with B-cubed (``wiredesk.pipeline.metrics.evaluate``)
against the gold (gold ids are the records' ``id``, the articles'
``source_article_id``). The jobs (config x set) run in ``PROCESSES``
processes.

Rows:

* per set S: the config with the best mean F1 over the other sets (ties: the
  shipped default, then the grid's sorted order), its F1 on S, and the shipped
  defaults' F1 on S (and the gain);
* the all-sets choice (best mean over every set) and whether it is the
  shipped default;
* the knob rule "a knob ships only if it helps the left-out sets on average
  and costs none of them more than 0.01": for each knob value changed from the
  grid's centre (the shipped defaults), the F1 change on each set, its mean and
  worst; and per knob, the value fitted on the other sets scored on the one
  left out (mean gain, worst loss over the folds).

``reference_f1`` (the defaults through ``cluster_articles``) sits next to the
run's own F1 as a check that the replay is the stage.
"""
from __future__ import annotations

import itertools
import multiprocessing
import time
from typing import Dict, List, Optional, Sequence, Tuple

from benchmarks.datasets import read_jsonl
from benchmarks.supervise import progress

GRID: Dict[str, List[float]] = {
    "threshold": [0.35, 0.4, 0.45],
    "merge_threshold": [0.55, 0.65, 0.75],
    "time_scale_days": [60, 120, 240],
}
#: Knobs tried one at a time from the shipped defaults (each value with every other knob at its default), not
#: crossed with the grid: they enter the knob rule and the folds' choice like the grid's values.
PROBES: Dict[str, List[float]] = {
    "block_window": [30, 50, 100],
}
PROCESSES = 2
MAX_LOSS = 0.01

_SETS: Dict[str, dict] = {}    # set -> prepared data; filled before the pool forks


def grid_cells() -> List[Dict[str, float]]:
    """Every config of GRID, in sorted order (knobs in GRID order, values ascending), then the PROBES: the
    defaults with one probed knob changed. Every cell names every knob of both."""
    keys = list(GRID)
    dflt = default_cell()
    probed = {k: dflt[k] for k in PROBES}
    cells = [dict(zip(keys, vals), **probed) for vals in itertools.product(*(sorted(GRID[k]) for k in keys))]
    cells += [dict(dflt, **{k: v}) for k, values in PROBES.items() for v in sorted(values) if v != dflt[k]]
    return cells


def cell_key(cell: Dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in cell.items())


def default_cell() -> Dict[str, float]:
    from wiredesk.transforms.events.config import DEFAULT_CONFIG

    return {k: getattr(DEFAULT_CONFIG, k) for k in (*GRID, *PROBES)}


def prepare(outdir: str, gold_path: str) -> Dict[str, object]:
    """A set's canonical ids, raw features, times, copies and gold, from its run's ``articles`` table."""
    import pyarrow.dataset as ds

    from wiredesk.schemas.records import Entity
    from wiredesk.transforms.cleaning.timestamps import epoch_seconds
    from wiredesk.transforms.events.config import DEFAULT_CONFIG
    from wiredesk.transforms.events.features import raw_features

    table = ds.dataset(f"{outdir}/articles", format="parquet", partitioning="hive").to_table(
        columns=["article_id", "source_article_id", "headline", "body", "published_at", "entities",
                 "duplicate_of"]).to_pylist()
    raws, times, copies, story = {}, {}, {}, {}
    for r in table:
        story[r["article_id"]] = r["source_article_id"] or r["article_id"]
        if r["duplicate_of"] is not None:
            copies[r["article_id"]] = r["duplicate_of"]
            continue
        ents = [Entity(e["text"], e["label"], e["norm"]) for e in r["entities"] or []]
        # the features do not depend on the grid's knobs, so the defaults build them
        raws[r["article_id"]] = raw_features(r["headline"], r["body"], ents, DEFAULT_CONFIG)
        times[r["article_id"]] = epoch_seconds(r["published_at"])
    gold = {str(g["id"]): str(g["event"]) for g in read_jsonl(gold_path)}
    return {"ids": sorted(raws), "raws": raws, "times": times, "copies": copies, "story": story, "gold": gold}


def score(data: Dict[str, object], cell: Dict[str, float]) -> Dict[str, object]:
    """B-cubed of one grid config on one prepared set."""
    from wiredesk.pipeline import metrics as event_metrics
    from wiredesk.transforms.events.config import DEFAULT_CONFIG
    from wiredesk.transforms.events.reference import cluster_articles

    clusters = cluster_articles(data["ids"], data["raws"], data["times"], DEFAULT_CONFIG.replace(**cell))
    pred = {}
    for aid, sid in data["story"].items():
        canon = aid
        seen = set()
        while canon in data["copies"] and canon not in seen:   # a copy takes its canonical's cluster
            seen.add(canon)
            canon = data["copies"][canon]
        pred[sid] = clusters.get(canon, canon)
    s = event_metrics.evaluate(pred, data["gold"])
    return {k: s[k] for k in ("bcubed_precision", "bcubed_recall", "bcubed_f1", "pred_events", "gold_events")}


def _job(args: Tuple[str, int]) -> Tuple[str, int, Dict[str, object], float]:
    name, k = args
    t0 = time.perf_counter()
    out = score(_SETS[name], grid_cells()[k])
    return name, k, out, time.perf_counter() - t0


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _choose(f1: Dict[str, Dict[str, float]], sets: Sequence[str], cells: List[Dict[str, float]],
            default: str) -> str:
    """The cell of best mean F1 over ``sets``; ties: the shipped default, then sorted order."""
    keys = [cell_key(c) for c in cells]
    best = max(round(_mean([f1[s][k] for s in sets]), 6) for k in keys)
    tied = [k for k in keys if round(_mean([f1[s][k] for s in sets]), 6) == best]
    return default if default in tied else tied[0]


def loso(outputs: Dict[str, str], gold_paths: Dict[str, str], processes: int = PROCESSES,
         run_f1: Optional[Dict[str, float]] = None) -> Dict[str, object]:
    """The grid on every set of ``outputs`` ({set: kept wiredesk output dir}), and the rows."""
    cells = grid_cells()
    keys = [cell_key(c) for c in cells]
    dflt = default_cell()
    default = cell_key(dflt)
    if default not in keys:
        raise ValueError(f"the shipped defaults {default} are not a cell of the grid")
    sets = list(outputs)
    t0 = time.perf_counter()
    for name in sets:
        _SETS[name] = prepare(outputs[name], gold_paths[name])
        progress(f"loso: {name}: {len(_SETS[name]['ids'])} canonical articles, "
                 f"{len(_SETS[name]['copies'])} copies")
    prep_s = time.perf_counter() - t0
    # the largest sets first, so the two processes end together
    jobs = [(n, k) for n in sorted(sets, key=lambda n: -len(_SETS[n]["ids"])) for k in range(len(cells))]
    scores: Dict[str, Dict[str, dict]] = {n: {} for n in sets}
    seconds: Dict[str, float] = {n: 0.0 for n in sets}
    ctx = multiprocessing.get_context("fork")
    t1 = time.perf_counter()
    with ctx.Pool(processes) as pool:
        for done, (name, k, out, secs) in enumerate(pool.imap_unordered(_job, jobs), 1):
            scores[name][keys[k]] = out
            seconds[name] += secs
            if done % 9 == 0 or done == len(jobs):
                progress(f"loso: {done}/{len(jobs)} grid cells done ({time.perf_counter() - t1:.0f} s)")
    grid_s = time.perf_counter() - t1
    _SETS.clear()
    f1 = {n: {k: scores[n][k]["bcubed_f1"] for k in keys} for n in sets}

    folds = {}
    for s in sets:
        others = [o for o in sets if o != s]
        if not others:
            break
        chosen = _choose(f1, others, cells, default)
        folds[s] = {"chosen": chosen, "chosen_is_default": chosen == default,
                    "train_mean_f1": round(_mean([f1[o][chosen] for o in others]), 4),
                    "f1": round(f1[s][chosen], 4), "default_f1": round(f1[s][default], 4),
                    "gain": round(f1[s][chosen] - f1[s][default], 4)}
    all_choice = _choose(f1, sets, cells, default)
    all_sets = {"chosen": all_choice, "is_default": all_choice == default,
                "mean_f1": round(_mean([f1[s][all_choice] for s in sets]), 4),
                "default_mean_f1": round(_mean([f1[s][default] for s in sets]), 4)}

    knob_values, knobs = [], []
    for knob, values in (*GRID.items(), *PROBES.items()):
        for v in sorted(values):
            if v == dflt[knob]:
                continue
            key = cell_key(dict(dflt, **{knob: v}))
            gains = {s: round(f1[s][key] - f1[s][default], 4) for s in sets}
            mean, worst = _mean(list(gains.values())), min(gains.values())
            knob_values.append({"knob": knob, "value": v, "default": dflt[knob], "gains": gains,
                                "mean_gain": round(mean, 4), "worst": round(worst, 4),
                                "ships": mean > 0 and worst >= -MAX_LOSS})
        # the knob alone fitted on the other sets (the rest at the centre), scored on the one left out
        if len(sets) > 1:
            fold_gain = {}
            for s in sets:
                others = [o for o in sets if o != s]
                line = [dict(dflt, **{knob: v}) for v in sorted(values)]
                chosen = _choose(f1, others, line, default)
                fold_gain[s] = round(f1[s][chosen] - f1[s][default], 4)
            mean, worst = _mean(list(fold_gain.values())), min(fold_gain.values())
            knobs.append({"knob": knob, "fold_gains": fold_gain, "mean_gain": round(mean, 4),
                          "worst": round(worst, 4), "ships": mean > 0 and worst >= -MAX_LOSS})
    return {"grid": GRID, "probes": PROBES, "default": default, "sets": sets,
            "f1": {n: {k: round(v, 4) for k, v in f1[n].items()} for n in sets},
            "scores": scores, "folds": folds, "all_sets": all_sets, "knob_values": knob_values, "knobs": knobs,
            "reference_f1": {n: round(f1[n][default], 4) for n in sets},
            "run_f1": {n: round(v, 4) for n, v in (run_f1 or {}).items() if n in sets},
            "prepare_s": round(prep_s, 2), "grid_s": round(grid_s, 2),
            "cpu_s_by_set": {n: round(v, 2) for n, v in seconds.items()}, "processes": processes}


def format_loso(r: Dict[str, object]) -> str:
    lines = [f"leave-one-set-out over {len(grid_cells())} configs ({', '.join(f'{k} {v}' for k, v in GRID.items())}"
             f"; one at a time: {', '.join(f'{k} {v}' for k, v in PROBES.items())}); shipped default: {r['default']}"]
    head = f"{'left out':20} {'chosen on the other sets':78} {'its F1':>7} {'default F1':>10} {'gain':>7}"
    lines += [head, "-" * len(head)]
    for s, f in r["folds"].items():
        mark = " (= default)" if f["chosen_is_default"] else ""
        lines.append(f"{s:20} {f['chosen'] + mark:78} {f['f1']:7.4f} {f['default_f1']:10.4f} {f['gain']:+7.4f}")
    a = r["all_sets"]
    lines.append(f"all sets: best mean F1 {a['mean_f1']:.4f} at {a['chosen']} "
                 f"({'the shipped default' if a['is_default'] else 'NOT the shipped default'}; "
                 f"default's mean {a['default_mean_f1']:.4f})")
    if r["run_f1"]:
        lines.append("replay check (defaults via cluster_articles vs the run): " + ", ".join(
            f"{n} {r['reference_f1'][n]:.4f} vs {v:.4f}" for n, v in r["run_f1"].items()))
    lines.append(f"knob rule: ships only if it helps the left-out sets on average and costs none more than "
                 f"{MAX_LOSS} (F1 change against the default, per set)")
    sets = r["sets"]
    head = f"  {'knob = value':34} " + " ".join(f"{s[:10]:>10}" for s in sets) + f" {'mean':>7} {'worst':>7}  ships"
    lines.append(head)
    for kv in r["knob_values"]:
        lines.append(f"  {kv['knob'] + ' = ' + format(kv['value'], 'g'):34} "
                     + " ".join(f"{kv['gains'][s]:+10.4f}" for s in sets)
                     + f" {kv['mean_gain']:+7.4f} {kv['worst']:+7.4f}  {'yes' if kv['ships'] else 'no'}")
    for k in r["knobs"]:
        lines.append(f"  {k['knob'] + ' fitted per fold':34} "
                     + " ".join(f"{k['fold_gains'][s]:+10.4f}" for s in sets)
                     + f" {k['mean_gain']:+7.4f} {k['worst']:+7.4f}  {'yes' if k['ships'] else 'no'}")
    lines.append(f"features {r['prepare_s']:.1f} s; grid {r['grid_s']:.1f} s in {r['processes']} processes")
    return "\n".join(lines)
