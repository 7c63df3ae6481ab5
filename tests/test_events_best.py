"""``best.BestDistinct``: the k best items of a key, one per other article, however the runner splits the work."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiredesk.transforms.events.best import BestDistinct, pack_best, unpack_best
from wiredesk.transforms.events.records import Neighbour


def _rank(n: Neighbour):
    return -n.score, n.article_id


def _brute(items, k):
    best = {}
    for n in items:
        if n.article_id not in best or _rank(n) < _rank(best[n.article_id]):
            best[n.article_id] = n
    return sorted(best.values(), key=_rank)[:k]


items_st = st.lists(st.builds(Neighbour, st.sampled_from([f"a{i}" for i in range(12)]),
                              st.sampled_from([0.1, 0.2, 0.25, 0.5, 0.9])), max_size=80)


@settings(max_examples=300, deadline=None)
@given(items_st, st.integers(1, 6), st.integers(1, 5), st.randoms(use_true_random=False))
def test_any_split_and_merge_order_gives_the_brute_force_answer(items, k, parts, rnd):
    fn = BestDistinct(k)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    accs = [fn.create_accumulator() for _ in range(parts)]
    for n in shuffled:
        i = rnd.randrange(parts)
        accs[i] = fn.add_input(accs[i], n)
    if rnd.random() < 0.5:
        accs = [fn.compact(a) for a in accs]
    rnd.shuffle(accs)
    merged = fn.merge_accumulators(accs)
    assert fn.extract_output(merged) == _brute(items, k)


def test_an_other_article_counts_once_at_its_best_score():
    fn = BestDistinct(2)
    acc = fn.create_accumulator()
    for n in [Neighbour("b", 0.3), Neighbour("b", 0.9), Neighbour("c", 0.5), Neighbour("d", 0.4)]:
        acc = fn.add_input(acc, n)
    assert fn.extract_output(acc) == [Neighbour("b", 0.9), Neighbour("c", 0.5)]
    assert unpack_best(fn.compact(acc)) == {"b": 0.9, "c": 0.5}  # the accumulator: other -> best score, nothing more


def test_what_leaves_a_worker_is_packed_in_four_objects_and_unpacks_exactly():
    fn = BestDistinct(3)
    acc = fn.create_accumulator()
    for n in [Neighbour("src/é1", 0.123456), Neighbour("x", 1e-6), Neighbour("", 2.5), Neighbour("zz", 0.1)]:
        acc = fn.add_input(acc, n)
    packed = fn.compact(acc)
    joined, ends, scores = packed
    assert isinstance(joined, str) and isinstance(ends, bytes) and isinstance(scores, bytes)
    assert unpack_best(packed) == {"": 2.5, "src/é1": 0.123456, "zz": 0.1}
    assert pack_best({}) == ("", b"", b"") and unpack_best(("", b"", b"")) == {}
    # a packed accumulator merges and adds like a dict
    assert fn.extract_output(fn.add_input(packed, Neighbour("x", 3.0)))[0] == Neighbour("x", 3.0)


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit must be 1 or more"):
        BestDistinct(0)
