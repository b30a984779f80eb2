"""Records/s from sampled end offsets: the current rate, the sparkline, restarts, and two
processes sampling the same broker at different moments agreeing on the rate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpipe.report.rates import MIN_GAP_S, RateHistory


def steady(history: RateHistory, name: str, per_second: float, times: list[float]) -> None:
    for t in times:
        history.add(t, {name: round(per_second * t)})


def test_no_rate_before_two_samples() -> None:
    history = RateHistory()
    assert history.rate("t", 10.0) is None
    history.add(10.0, {"t": 100})
    assert history.rate("t", 10.0) is None
    assert history.series("t", 10.0) == [None] * 60


def test_steady_rate_over_the_window() -> None:
    history = RateHistory(window=10.0)
    steady(history, "t", 50.0, [float(t) for t in range(100, 131)])
    assert history.rate("t", 130.0) == pytest.approx(50.0)
    # With less history than the window, the rate is over what there is.
    short = RateHistory(window=10.0)
    steady(short, "t", 20.0, [100.0, 102.0])
    assert short.rate("t", 102.0) == pytest.approx(20.0)


def test_rate_drops_when_appends_stop() -> None:
    history = RateHistory(window=10.0)
    steady(history, "t", 100.0, [float(t) for t in range(0, 21)])
    for t in range(21, 41):
        history.add(float(t), {"t": 2000})
    assert history.rate("t", 40.0) == 0.0
    assert history.rate("t", 25.0) == pytest.approx(50.0)  # half the window still appending


def test_sparkline_buckets_follow_the_offsets() -> None:
    history = RateHistory(span=60.0, step=10.0)
    # 10/s for the first 30 s, then 40/s; sampled every 1.5 s (uneven against the buckets).
    times = [i * 1.5 for i in range(41)]
    for t in times:
        end = 10 * t if t <= 30 else 300 + 40 * (t - 30)
        history.add(t, {"t": round(end)})
    series = history.series("t", 60.0)
    assert len(series) == 6
    assert series[:3] == pytest.approx([10.0, 10.0, 10.0], abs=0.5)
    assert series[3:] == pytest.approx([40.0, 40.0, 40.0], abs=0.5)
    # Buckets reaching before the first sample are unknown, not zero.
    assert history.series("t", 55.0)[0] is None
    assert history.series("t", 55.0)[1] == pytest.approx(10.0, abs=0.5)


def test_a_recreated_topic_starts_over() -> None:
    history = RateHistory()
    steady(history, "t", 100.0, [0.0, 1.0, 2.0])
    history.add(3.0, {"t": 5})  # deleted and created again
    assert history.rate("t", 3.0) is None
    history.add(4.0, {"t": 15})
    assert history.rate("t", 4.0) == pytest.approx(10.0)


def test_samples_of_one_moment_are_merged_and_old_ones_dropped() -> None:
    history = RateHistory(span=20.0, step=5.0)
    history.add(0.0, {"t": 0})
    history.add(MIN_GAP_S / 2, {"t": 7})  # a second viewer's poll at the same moment
    steady(history, "t", 1.0, [float(t) for t in range(1, 200)])
    curve = history._curves["t"]
    assert len(curve.times) <= 27  # span + step of one-second samples, plus one
    assert curve.times[0] <= 199 - 25


def test_absent_names_keep_their_history() -> None:
    history = RateHistory()
    steady(history, "a", 10.0, [0.0, 1.0])
    history.add(2.0, {})  # "a" could not be described this once
    assert history.rate("a", 2.0) == pytest.approx(10.0)


@given(
    rate=st.floats(min_value=0.0, max_value=50_000.0),
    first=st.lists(st.floats(min_value=0.3, max_value=3.0), min_size=15, max_size=30),
    second=st.lists(st.floats(min_value=0.3, max_value=3.0), min_size=15, max_size=30),
)
def test_two_workers_sampling_at_different_moments_agree(
    rate: float, first: list[float], second: list[float]
) -> None:
    """Each API worker samples the same broker when its polls arrive: their rates agree."""
    workers = (RateHistory(window=10.0), RateHistory(window=10.0))
    for history, gaps in zip(workers, (first, second), strict=True):
        t = 0.0
        for gap in gaps:
            history.add(t, {"t": int(rate * t)})
            t += gap
        history.add(60.0, {"t": int(rate * 60.0)})
    rates = [h.rate("t", 60.0) for h in workers]
    assert rates[0] == pytest.approx(rate, abs=1.0 + rate * 0.01)
    assert rates[1] == pytest.approx(rates[0], abs=1.0 + rate * 0.01)
