"""The TF-IDF + average-link anchors the events benchmark puts next to wiredesk (issue 10).

``TfidfVectorizer(sublinear_tf=True, stop_words="english")`` over headline +
blank line + body of the records as given, cosine distances from the sparse
TF-IDF matrix (``sklearn.metrics.pairwise.cosine_distances``), average-link
agglomerative clustering, scored with ``wiredesk.pipeline.metrics.evaluate``.
Two anchors per set:

* ``tfidf-avg@0.85``: one distance threshold fixed a priori for every set
  (``FIXED_THRESHOLD``);
* ``tfidf-avg@best(T)``: the set's own best threshold T by B-cubed F1 over the
  sweep ``SWEEP`` (0.50, 0.525, ..., 0.975) -- an oracle no shipped default
  gets (it looks at the gold).

The dendrogram is built once per set (``scipy.cluster.hierarchy.linkage``,
``method="average"`` on the condensed distances) and cut at every threshold:
clusters merge while their average distance is below T, as
``AgglomerativeClustering(linkage="average", distance_threshold=T)`` does
(average link has no inversions, so a cut just below T is that clustering).
The seconds are in-process (vectorizing, distances, the dendrogram and its
cuts; no start-up, no I/O): the fixed anchor's are one cut, the oracle's the
whole sweep. They are not comparable one to one with the CLI's wall clock.
"""
from __future__ import annotations

import time
from typing import Dict, List, Sequence, Tuple

from benchmarks.datasets import article_text

FIXED_THRESHOLD = 0.85
SWEEP: Tuple[float, ...] = tuple(round(0.5 + 0.025 * k, 3) for k in range(20))   # 0.50 ... 0.975
FIXED_LABEL = f"tfidf-avg@{FIXED_THRESHOLD}"
BEST_LABEL = "tfidf-avg@best(T)"
ANCHORS = (FIXED_LABEL, BEST_LABEL)


def _dendrogram(arts: Sequence[dict]):
    import numpy as np
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_distances

    X = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform([article_text(a) for a in arts])
    D = cosine_distances(X)
    np.fill_diagonal(D, 0.0)
    D = np.clip((D + D.T) / 2, 0.0, None)
    condensed = squareform(D, checks=False)
    del D
    return linkage(condensed, method="average")


def _cut(Z, n: int, threshold: float) -> List[int]:
    import numpy as np
    from scipy.cluster.hierarchy import fcluster

    if n < 2:
        return [0] * n
    # merges strictly below the threshold, as sklearn's distance_threshold
    return [int(c) for c in fcluster(Z, np.nextafter(threshold, -np.inf), criterion="distance")]


def anchors(arts: Sequence[dict], gold: Dict[str, str]) -> Dict[str, Dict[str, object]]:
    """{label: {"scores", "seconds", "threshold"}} of both anchors, plus
    ``sweep`` ({threshold: B-cubed F1}) on the oracle's entry."""
    from wiredesk.pipeline import metrics as event_metrics

    ids = [str(a["id"]) for a in arts]
    t0 = time.perf_counter()
    Z = _dendrogram(arts) if len(ids) > 1 else None
    build_s = time.perf_counter() - t0
    runs = {}
    for t in sorted(set(SWEEP) | {FIXED_THRESHOLD}):
        t1 = time.perf_counter()
        labels = _cut(Z, len(ids), t) if Z is not None else [0] * len(ids)
        cut_s = time.perf_counter() - t1
        runs[t] = (event_metrics.evaluate(dict(zip(ids, labels)), gold), cut_s)
    fixed_scores, fixed_cut = runs[FIXED_THRESHOLD]
    # best F1 over the sweep; ties -> the smaller threshold
    best_t = max(SWEEP, key=lambda t: (round(runs[t][0]["bcubed_f1"], 9), -t))
    return {
        FIXED_LABEL: {"scores": fixed_scores, "seconds": build_s + fixed_cut, "threshold": FIXED_THRESHOLD},
        BEST_LABEL: {"scores": runs[best_t][0], "seconds": build_s + sum(runs[t][1] for t in SWEEP),
                     "threshold": best_t,
                     "sweep": {str(t): round(runs[t][0]["bcubed_f1"], 4) for t in SWEEP}},
    }


def baseline(arts: Sequence[dict], gold: Dict[str, str], threshold: float) -> Tuple[Dict[str, object], float]:
    """TF-IDF + average link at one distance threshold: the scores against
    ``gold`` and the seconds it took."""
    from wiredesk.pipeline import metrics as event_metrics

    t0 = time.perf_counter()
    ids = [str(a["id"]) for a in arts]
    labels = _cut(_dendrogram(arts), len(ids), threshold) if len(ids) > 1 else [0] * len(ids)
    seconds = time.perf_counter() - t0
    return event_metrics.evaluate(dict(zip(ids, labels)), gold), seconds
