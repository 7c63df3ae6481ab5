"""benchmarks.quality and datasets: the stress rows and their anchor goals."""
from benchmarks.datasets import STRESS, _headlines_only, _no_headlines, _undated
from benchmarks.quality import _method_label, anchor_goal, stress_goals

ARTS = [{"id": "a", "headline": "Quake hits city", "body": "A quake hit.", "published_at": "2024-03-01T10:00:00Z"},
        {"id": "b", "headline": "Rates held", "body": "The bank held rates.", "published_at": None}]


def _row(f1, threshold=None):
    return {"bcubed_f1": f1, "threshold": threshold}


def test_stress_changes_remove_one_field_and_keep_the_rest():
    assert [a["headline"] for a in _no_headlines(ARTS)] == [None, None]
    assert [a["body"] for a in _no_headlines(ARTS)] == ["A quake hit.", "The bank held rates."]
    assert [(a["headline"], a["body"]) for a in _headlines_only(ARTS)] == [("Quake hits city", None),
                                                                          ("Rates held", None)]
    assert [a["published_at"] for a in _undated(ARTS)] == [None, None]
    assert ARTS[0]["headline"] == "Quake hits city"   # the set itself is not changed
    assert all(len({label for label, _ in rows}) == len(rows) for rows in STRESS.values())


def test_a_stress_row_is_held_to_the_anchors_on_its_own_records():
    methods = {"wiredesk": _row(0.95), "tfidf-avg@0.85": _row(0.80), "tfidf-avg@best(T)": _row(0.90, 0.8),
               "wiredesk, headlines removed": _row(0.86), "tfidf-avg@0.85, headlines removed": _row(0.84),
               "tfidf-avg@best(T), headlines removed": _row(0.85, 0.75)}
    main = anchor_goal(methods)
    assert main["target"] == 0.93 and main["met"]
    stressed = anchor_goal(methods, ", headlines removed")
    assert stressed["target"] == 0.88 and stressed["value"] == 0.86 and not stressed["met"]
    assert stressed["goal"].startswith("wiredesk, headlines removed F1 >= 0.880")
    # gvc lists three stress rows; only the one that ran is checked
    assert [c["goal"].split(" F1")[0] for c in stress_goals("gvc", methods)] == ["wiredesk, headlines removed"]
    assert anchor_goal({"wiredesk": _row(0.9)}) is None


def test_the_oracle_anchor_label_shows_its_threshold_and_its_row():
    assert _method_label("tfidf-avg@best(T), bodies removed", _row(0.5, 0.9)) == "tfidf-avg@best(0.9), bodies removed"
    assert _method_label("wiredesk", _row(0.5)) == "wiredesk"
