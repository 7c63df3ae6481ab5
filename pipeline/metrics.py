"""Clustering quality against gold event labels (pure; no Beam).

All metrics compare two labelings of the same items: ``pred`` and ``gold`` map
item id -> cluster label. Only ids present in both are scored; how many were
left out either way is reported.

- B-cubed precision/recall/F1 (Bagga & Baldwin 1998): per item, the share of
  its predicted cluster that shares its gold event (precision) and the share of
  its gold event that shares its predicted cluster (recall), averaged over items.
- Pairwise precision/recall/F1 over unordered pairs of items in one cluster.
- Adjusted Rand index and normalized mutual information (arithmetic mean),
  computed with scikit-learn.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, Hashable, Mapping


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def contingency(pred: Mapping[str, Hashable], gold: Mapping[str, Hashable]):
    ids = [i for i in gold if i in pred]
    joint = Counter((pred[i], gold[i]) for i in ids)
    psize = Counter(pred[i] for i in ids)
    gsize = Counter(gold[i] for i in ids)
    return ids, joint, psize, gsize


def bcubed(pred, gold) -> Dict[str, float]:
    ids, joint, psize, gsize = contingency(pred, gold)
    n = len(ids)
    if not n:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # Each item in cell (p, g) has precision c/|p| and recall c/|g|.
    p = sum(c * c / psize[pc] for (pc, gc), c in joint.items()) / n
    r = sum(c * c / gsize[gc] for (pc, gc), c in joint.items()) / n
    return {"precision": p, "recall": r, "f1": _f1(p, r)}


def pairwise(pred, gold) -> Dict[str, float]:
    ids, joint, psize, gsize = contingency(pred, gold)
    tp = sum(_pairs(c) for c in joint.values())
    pp = sum(_pairs(c) for c in psize.values())
    gp = sum(_pairs(c) for c in gsize.values())
    p = tp / pp if pp else 1.0
    r = tp / gp if gp else 1.0
    return {"precision": p, "recall": r, "f1": _f1(p, r)}


def evaluate(pred: Mapping[str, Hashable], gold: Mapping[str, Hashable]) -> Dict[str, object]:
    """All scores in one flat-ish dict (JSON-serializable)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    ids, joint, psize, gsize = contingency(pred, gold)
    out: Dict[str, object] = {
        "articles_scored": len(ids),
        "gold_only": sum(1 for i in gold if i not in pred),
        "pred_only": sum(1 for i in pred if i not in gold),
        "gold_events": len(gsize),
        "pred_events": len(psize),
        "pred_singletons": sum(1 for c in psize.values() if c == 1),
        "gold_singletons": sum(1 for c in gsize.values() if c == 1),
    }
    b = bcubed(pred, gold)
    pw = pairwise(pred, gold)
    out.update({f"bcubed_{k}": v for k, v in b.items()})
    out.update({f"pairwise_{k}": v for k, v in pw.items()})
    if ids:
        # Labels mapped to ints: sklearn wants comparable labels.
        pl, gl = {}, {}
        P = [pl.setdefault(pred[i], len(pl)) for i in ids]
        G = [gl.setdefault(gold[i], len(gl)) for i in ids]
        out["ari"] = float(adjusted_rand_score(G, P))
        out["nmi"] = float(normalized_mutual_info_score(G, P))
    else:
        out["ari"] = out["nmi"] = 0.0
    return out


def group(labels: Mapping[str, Hashable]) -> Dict[Hashable, list]:
    out = defaultdict(list)
    for i, c in labels.items():
        out[c].append(i)
    return dict(out)
