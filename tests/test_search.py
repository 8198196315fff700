"""The shrinking search finds a local minimum, judges each candidate once, and refuses bad starts."""

import pytest

from cnnlab.search import neighbours, shrink

LADDERS = {"a": [1, 2, 3, 4, 5, 6], "b": [1, 2, 3, 4]}


def size(c):
    return c["a"] * c["b"]


def test_neighbours_move_one_dimension_one_step():
    got = neighbours({"a": 1, "b": 3}, LADDERS)
    assert got == [{"a": 2, "b": 3}, {"a": 1, "b": 2}, {"a": 1, "b": 4}]
    with pytest.raises(ValueError, match="expected one of"):
        neighbours({"a": 7, "b": 1}, LADDERS)
    with pytest.raises(ValueError, match="expected the dimensions"):
        neighbours({"a": 1}, LADDERS)


def test_shrink_stops_where_every_smaller_neighbour_fails():
    calls = []

    def passes(c):
        calls.append(c)
        return c["a"] + 2 * c["b"] >= 7   # passing region; its smallest products: a=1, b=3 (3) and a=5, b=1 (5)

    result = shrink({"a": 6, "b": 4}, LADDERS, size, passes)
    assert result.path[0] == {"a": 6, "b": 4} and all(size(x) > size(y) for x, y in zip(result.path, result.path[1:]))
    # 24 -> (6, 3) 18 -> (6, 2) 12 -> (6, 1) 6 -> (5, 1) 5: a local minimum, not the global one (1, 3)
    assert result.path[1:] == [{"a": 6, "b": 3}, {"a": 6, "b": 2}, {"a": 6, "b": 1}, {"a": 5, "b": 1}]
    assert result.winner == {"a": 5, "b": 1} and result.failing_neighbours == [{"a": 4, "b": 1}]
    keys = [tuple(sorted(c.items())) for c in calls]
    assert len(keys) == len(set(keys))   # judged once each
    assert set(result.judged) == set(keys)


def test_shrink_refuses_a_failing_or_impossible_start():
    with pytest.raises(ValueError, match="start from a larger network"):
        shrink({"a": 1, "b": 1}, LADDERS, size, lambda c: False)
    with pytest.raises(ValueError, match="params is None"):
        shrink({"a": 1, "b": 1}, LADDERS, lambda c: None, lambda c: True)


def test_impossible_neighbours_are_skipped():
    result = shrink({"a": 3, "b": 2}, LADDERS, lambda c: None if c["b"] == 1 else size(c), lambda c: True)
    assert result.winner == {"a": 1, "b": 2} and result.failing_neighbours == []


def test_a_step_passes_over_values_that_leave_the_size_unchanged():
    ladders = {"pool": [4, 5, 6, 7, 8]}
    size = {4: 36, 5: 16, 6: 16, 7: 9, 8: 9}

    def count(c):
        return size[c["pool"]]

    assert neighbours({"pool": 5}, ladders, count) == [{"pool": 4}, {"pool": 7}]
    assert neighbours({"pool": 5}, ladders) == [{"pool": 4}, {"pool": 6}]
    assert neighbours({"pool": 7}, ladders, count) == [{"pool": 6}]   # 8 changes nothing and ends the ladder
    result = shrink({"pool": 4}, ladders, count, lambda c: True)
    assert [c["pool"] for c in result.path] == [4, 5, 7]
