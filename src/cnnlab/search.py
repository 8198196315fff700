"""A shrinking architecture search: from a candidate that passes, move one dimension one step at a
time to the smallest neighbour that still passes, until no smaller neighbour does.

A candidate is a dict ``{dimension: value}``; ``ladders[dimension]`` lists the values a dimension may
take, in order, and a step moves to the next value up or down the ladder (past values that leave
the parameter count unchanged). ``params(candidate)``
counts parameters (None for an impossible network, e.g. a map pooled to nothing) and
``passes(candidate)`` trains and judges it. Every candidate is judged at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable


def key_of(candidate: dict) -> tuple:
    """A hashable, order-independent form of ``candidate``."""
    return tuple(sorted(candidate.items()))


def neighbours(candidate: dict, ladders: dict[str, list],
               params: Callable[[dict], int | None] | None = None) -> list[dict]:
    """Every candidate that differs from ``candidate`` by one ladder step in one dimension.

    With ``params``, a step passes over ladder values that leave the parameter count unchanged (e.g. a
    pooling window that gives the same map size) to the next value that changes it, or to none."""
    if set(candidate) != set(ladders):
        raise ValueError(f"candidate: expected the dimensions {sorted(ladders)}, got {sorted(candidate)}")
    size = params(candidate) if params else None
    out = []
    for dim, ladder in ladders.items():
        if candidate[dim] not in ladder:
            raise ValueError(f"candidate[{dim!r}]: expected one of {ladder}, got {candidate[dim]!r}")
        i = ladder.index(candidate[dim])
        for step in (-1, 1):
            j = i + step
            while params and 0 <= j < len(ladder) and params(candidate | {dim: ladder[j]}) == size:
                j += step
            if 0 <= j < len(ladder):
                out.append(candidate | {dim: ladder[j]})
    return out


@dataclass
class SearchResult:
    """``winner``: the last accepted candidate; ``path``: the accepted candidates in order (start
    first); ``judged``: every judged candidate's key -> passed; ``failing_neighbours``: the
    winner's smaller neighbours, all judged and all failing."""

    winner: dict
    path: list[dict]
    judged: dict = field(default_factory=dict)
    failing_neighbours: list[dict] = field(default_factory=list)


def shrink(start: dict, ladders: dict[str, list], params: Callable[[dict], int | None],
           passes: Callable[[dict], bool], max_steps: int = 100) -> SearchResult:
    """Greedy search for a small passing candidate.

    At each step the current candidate's neighbours with fewer parameters (a step passes over values
    that leave the count unchanged) are judged from the smallest up; the first that passes becomes
    the current candidate. The search ends when all of them fail: the winner is then a local minimum
    (no one-step-smaller neighbour passes).
    """
    if params(start) is None:
        raise ValueError(f"start: expected a possible network, got {start} (params is None)")
    judged = {key_of(start): bool(passes(start))}
    if not judged[key_of(start)]:
        raise ValueError(f"start: expected a candidate that passes, got {start} failing; start from a larger network")
    current, path = start, [start]
    for _ in range(max_steps):
        size = params(current)
        smaller = [n for n in neighbours(current, ladders, params) if (p := params(n)) is not None and p < size]
        smaller.sort(key=lambda n: (params(n), key_of(n)))
        accepted = None
        for n in smaller:
            if key_of(n) not in judged:
                judged[key_of(n)] = bool(passes(n))
            if judged[key_of(n)]:
                accepted = n
                break
        if accepted is None:
            return SearchResult(current, path, judged, smaller)
        current = accepted
        path.append(current)
    raise RuntimeError(f"shrink: no local minimum within max_steps={max_steps} steps (last: {current})")
