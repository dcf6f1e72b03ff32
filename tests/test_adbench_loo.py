"""The leave-one-data-set-out selection of benchmarks/adbench_loo.py, on tiny synthetic tables."""

import numpy as np
import pytest

from benchmark_scripts import import_benchmark

_loo = import_benchmark("adbench_loo")
in_sample_best, leave_one_out = _loo.in_sample_best, _loo.leave_one_out

NAMES = ["a", "b", "c", "d", "e"]


def table(rows: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {c: dict(zip(NAMES, v)) for c, v in rows.items()}


def test_a_candidate_best_on_one_set_only_is_never_chosen():
    # "narrow" beats "broad" by 0.05 on set a and loses by 0.02 elsewhere: over any four
    # sets it is behind, so it is not chosen, not even for a, where it is best
    scores = table({"broad": [0.80] * 5, "narrow": [0.85, 0.78, 0.78, 0.78, 0.78]})
    chosen = leave_one_out(scores, NAMES, ["broad", "narrow"])
    assert chosen == dict.fromkeys(NAMES, "broad")
    assert in_sample_best(scores, NAMES, ["broad", "narrow"]) == "broad"


def test_a_candidate_that_wins_big_on_one_set_is_chosen_only_where_that_set_is_seen():
    # "spiky" is far ahead on a alone: its mean wins whenever a is among the others, and
    # for a itself the choice (made without a) is "broad"
    scores = table({"broad": [0.80] * 5, "spiky": [1.00, 0.76, 0.76, 0.76, 0.76]})
    chosen = leave_one_out(scores, NAMES, ["broad", "spiky"])
    assert chosen["a"] == "broad"
    assert all(chosen[n] == "spiky" for n in NAMES[1:])


def test_the_held_out_scores_never_influence_its_own_choice():
    rng = np.random.default_rng(0)
    candidates = ["p", "q", "r", "s"]
    for _ in range(20):
        scores = table({c: list(rng.uniform(0.5, 1.0, len(NAMES))) for c in candidates})
        chosen = leave_one_out(scores, NAMES, candidates)
        for held in NAMES:
            changed = {c: dict(v) for c, v in scores.items()}
            for c in candidates:  # anything at all on the held-out set
                changed[c][held] = float(rng.uniform(0.0, 1.0))
            assert leave_one_out(changed, NAMES, candidates)[held] == chosen[held]
            # and the choice is the best mean over the other sets
            others = [n for n in NAMES if n != held]
            best = max(candidates, key=lambda c: np.mean([scores[c][n] for n in others]))
            assert chosen[held] == best


def test_ties_go_to_the_first_candidate_and_one_data_set_is_refused():
    scores = table({"today": [0.7] * 5, "same": [0.7] * 5})
    assert set(leave_one_out(scores, NAMES, ["today", "same"]).values()) == {"today"}
    assert set(leave_one_out(scores, NAMES, ["same", "today"]).values()) == {"same"}
    with pytest.raises(ValueError, match="at least 2 data sets"):
        leave_one_out(scores, ["a"], ["today"])
