"""What the backends share: how many samples a build keeps in flight for its workers."""

from __future__ import annotations

from benchagent.executor.backend import samples_in_flight


def test_two_samples_per_worker_are_in_flight_and_never_fewer_than_four() -> None:
    assert [samples_in_flight(n) for n in (0, 1, 2, 3, 64)] == [4, 4, 4, 6, 128]
