"""The comments benchmark's bookkeeping: a lost or doubled comment must show, or the benchmark proves nothing."""

from __future__ import annotations

from benchmarks.comments import percentile, verify


def test_verify_counts_lost_duplicated_and_unacknowledged() -> None:
    acknowledged = [
        {"user_id": 1, "key": "r0-4", "comment_id": 10},  # stored once: fine
        {"user_id": 1, "key": "r0-8", "comment_id": 11},  # never stored: lost
        {"user_id": 2, "key": "r1-4", "comment_id": 12},  # stored twice: one duplicate
        {"user_id": 2, "key": "r1-8", "comment_id": 13},  # the key holds another comment: lost
    ]
    stored = {
        (1, "r0-4"): [10],
        (2, "r1-4"): [12, 14],
        (2, "r1-8"): [15],
        (3, "r2-4"): [16],  # the client gave up before the answer came
    }
    assert verify(acknowledged, stored) == {"lost": 2, "duplicated": 1, "unacknowledged": 1}


def test_a_clean_run_verifies_clean() -> None:
    acknowledged = [{"user_id": 1, "key": f"r0-{n}", "comment_id": n} for n in range(5)]
    stored = {(1, f"r0-{n}"): [n] for n in range(5)}
    assert verify(acknowledged, stored) == {"lost": 0, "duplicated": 0, "unacknowledged": 0}


def test_percentile() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 51.0
    assert percentile(values, 99) == 100.0
    assert percentile([], 99) == 0.0
