import numpy as np
import pytest

from engine.data.sampler import PairSampler
from engine.errors import UserError


def _clips():
    # frame k of clip c holds the value 100*c + k everywhere
    return [
        np.full((n, 4, 4, 3), 0, np.uint8)
        + (100 * c + np.arange(n, dtype=np.uint8))[:, None, None, None]
        for c, n in enumerate((3, 12, 30))
    ]


def test_pairs_are_distinct_nearby_frames_of_one_clip():
    sampler = PairSampler(_clips(), max_gap=3, seed=0)
    x1, x2 = sampler.sample(500)
    a, b = x1[:, 0, 0, 0].astype(int), x2[:, 0, 0, 0].astype(int)
    assert (a // 100 == b // 100).all()  # same clip
    assert ((a != b) & (np.abs(a - b) <= 3)).all()
    assert set(np.unique(a // 100)) == {0, 1, 2}  # a batch mixes clips


def test_state_round_trip_replays_the_same_pairs():
    s = PairSampler(_clips(), max_gap=2, seed=4)
    s.sample(5)
    state = s.state()
    first = s.sample(7)
    s2 = PairSampler(_clips(), max_gap=2, seed=99)
    s2.set_state(state)
    second = s2.sample(7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_single_frame_clips_are_not_enough():
    with pytest.raises(UserError, match="two frames"):
        PairSampler([np.zeros((1, 4, 4, 3), np.uint8)])


def test_prefetcher_keeps_the_order_and_reports_the_consumed_state():
    from engine.data.sampler import Prefetcher

    alone = PairSampler(_clips(), max_gap=2, seed=7)
    expected = [alone.sample(4) for _ in range(3)]
    state_after_two = PairSampler(_clips(), max_gap=2, seed=7)
    state_after_two.sample(4), state_after_two.sample(4)
    with Prefetcher(PairSampler(_clips(), max_gap=2, seed=7), 4, depth=3) as pre:
        got = [pre.next(), pre.next()]
        assert pre.state() == state_after_two.state()  # not the state of batches drawn ahead
        got.append(pre.next())
    for (a1, a2), (b1, b2) in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a1, b1)
        np.testing.assert_array_equal(a2, b2)


def test_prefetcher_passes_errors_on():
    from engine.data.sampler import Prefetcher

    class Broken:
        def state(self):
            return {}

        def sample(self, batch):
            raise OSError("disk gone")

    with Prefetcher(Broken(), 2) as pre, pytest.raises(OSError, match="disk gone"):
        pre.next()
