"""Ordering the day's visits (拜访路线): pure Python, no map service.

Distances are great-circle (haversine) kilometres times a road factor; travel time is that distance
at an average city speed. A route starts at the start point (office or home) at a start time, visits
every stop once, stays ``service_minutes`` at each, and (optionally) returns to the start.

Time windows: a stop may have an earliest and a latest arrival (minutes after midnight); arriving
early means waiting, arriving late is *lateness*, heavily penalised (an appointment booked at the
customer's convenience is not moved by the router). The objective is, lexicographically in effect,
lateness first (``LATE_PENALTY`` per minute), then the total time of the day (travel + waiting +
visits), then distance.

* up to ``EXACT_LIMIT`` stops: exact, a Held–Karp dynamic programme over (visited set, last stop)
  keeping the Pareto front of (time, lateness, distance) labels — the optimum of the objective above;
* above: nearest neighbour (time-window aware) improved by 2-opt and Or-opt moves until no move
  improves, then the best of that and a few randomised restarts (seeded: results are reproducible).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

EARTH_RADIUS_KM = 6371.0088
ROAD_FACTOR = 1.35  # city roads are ~30–40% longer than the straight line
SPEED_KMH = 28.0  # average door-to-door speed in Chinese city traffic
LATE_PENALTY = 1000.0  # cost of one minute late, in minutes of route time
EXACT_LIMIT = 10
MAX_STOPS = 200


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180) or math.isnan(self.lat + self.lon):
            raise ValueError(f"coordinates out of range: {self.lat}, {self.lon}")


@dataclass(frozen=True)
class Stop:
    key: str
    point: Point
    service_minutes: float = 30.0
    earliest: float | None = None  # minutes after midnight
    latest: float | None = None

    def __post_init__(self) -> None:
        if self.service_minutes < 0:
            raise ValueError("service time cannot be negative")
        if self.earliest is not None and self.latest is not None and self.latest < self.earliest:
            raise ValueError(f"stop {self.key}: window ends before it starts")


@dataclass
class Leg:
    key: str
    km: float
    travel_minutes: float
    arrive: float
    wait: float
    start: float
    depart: float
    late: float


@dataclass
class Route:
    order: list[str]
    legs: list[Leg] = field(default_factory=list)
    total_km: float = 0.0
    travel_minutes: float = 0.0
    total_minutes: float = 0.0  # start to finish (incl. waiting and visits; and the way back)
    late_minutes: float = 0.0
    finish: float = 0.0
    exact: bool = False

    @property
    def cost(self) -> float:
        return self.total_minutes + LATE_PENALTY * self.late_minutes + self.total_km * 1e-6


def haversine_km(a: Point, b: Point) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def road_km(a: Point, b: Point) -> float:
    return haversine_km(a, b) * ROAD_FACTOR


def minutes_for_km(km: float, speed_kmh: float = SPEED_KMH) -> float:
    return km / speed_kmh * 60.0


class _Problem:
    """Index 0 is the start; stops are 1..n. Distance and time matrices are computed once."""

    def __init__(
        self,
        start: Point,
        stops: Sequence[Stop],
        start_minute: float,
        return_to_start: bool,
        speed_kmh: float,
    ) -> None:
        self.stops = list(stops)
        self.n = len(stops)
        self.start_minute = start_minute
        self.back = return_to_start
        points = [start, *(s.point for s in stops)]
        self.km = [[road_km(a, b) for b in points] for a in points]
        self.t = [[minutes_for_km(d, speed_kmh) for d in row] for row in self.km]
        self.service = [0.0, *(s.service_minutes for s in stops)]
        self.earliest = [None, *(s.earliest for s in stops)]
        self.latest = [None, *(s.latest for s in stops)]
        self.windowed = any(s.earliest is not None or s.latest is not None for s in stops)

    def evaluate(self, order: Sequence[int]) -> tuple[float, float, float, float]:
        """(cost, finish, lateness, km) of visiting ``order`` (stop indices 1..n)."""
        now = self.start_minute
        late = km = 0.0
        prev = 0
        t, d = self.t, self.km
        earliest, latest, service = self.earliest, self.latest, self.service
        for i in order:
            now += t[prev][i]
            km += d[prev][i]
            e = earliest[i]
            if e is not None and now < e:
                now = e
            lt = latest[i]
            if lt is not None and now > lt:
                late += now - lt
            now += service[i]
            prev = i
        if self.back:
            now += t[prev][0]
            km += d[prev][0]
        total = now - self.start_minute
        return total + LATE_PENALTY * late + km * 1e-6, now, late, km

    def route(self, order: Sequence[int], exact: bool) -> Route:
        now = self.start_minute
        prev = 0
        legs = []
        travel = 0.0
        for i in order:
            stop = self.stops[i - 1]
            now += self.t[prev][i]
            travel += self.t[prev][i]
            arrive = now
            e, lt = self.earliest[i], self.latest[i]
            wait = max(0.0, e - now) if e is not None else 0.0
            now += wait
            late = max(0.0, now - lt) if lt is not None else 0.0
            start = now
            now += self.service[i]
            legs.append(Leg(stop.key, self.km[prev][i], self.t[prev][i], arrive, wait, start, now, late))
            prev = i
        km = sum(leg.km for leg in legs)
        if self.back and order:
            km += self.km[prev][0]
            travel += self.t[prev][0]
            now += self.t[prev][0]
        return Route(
            order=[self.stops[i - 1].key for i in order],
            legs=legs,
            total_km=km,
            travel_minutes=travel,
            total_minutes=now - self.start_minute,
            late_minutes=sum(leg.late for leg in legs),
            finish=now,
            exact=exact,
        )


def _dominated(label: tuple[float, float, float], front: list[tuple[float, float, float]]) -> bool:
    return any(o[0] <= label[0] and o[1] <= label[1] and o[2] <= label[2] for o in front)


def _exact(p: _Problem) -> list[int]:
    """Held–Karp over (visited set, last stop) with Pareto labels (time, lateness, km) and parents.

    A label's future depends only on its time (later is never better: waiting absorbs earliness,
    lateness only grows), so a label no better in time, lateness and distance than another of the
    same state can be dropped without losing the optimum.
    """
    n = p.n
    full = (1 << n) - 1
    # labels[mask][last] = list of (time, late, km, parent_label_ref)
    labels: list[dict[int, list[tuple[float, float, float, object]]]] = [{} for _ in range(full + 1)]

    def extend(time: float, late: float, km: float, prev: int, j: int) -> tuple[float, float, float]:
        now = time + p.t[prev][j]
        e, lt = p.earliest[j], p.latest[j]
        if e is not None and now < e:
            now = e
        if lt is not None and now > lt:
            late += now - lt
        return now + p.service[j], late, km + p.km[prev][j]

    for j in range(1, n + 1):
        t, late, km = extend(p.start_minute, 0.0, 0.0, 0, j)
        labels[1 << (j - 1)][j] = [(t, late, km, None)]
    for mask in range(1, full + 1):
        for last, front in labels[mask].items():
            for j in range(1, n + 1):
                bit = 1 << (j - 1)
                if mask & bit:
                    continue
                target = labels[mask | bit].setdefault(j, [])
                for label in front:
                    new = extend(label[0], label[1], label[2], last, j)
                    if _dominated(new, [x[:3] for x in target]):  # type: ignore[misc]
                        continue
                    target[:] = [
                        x for x in target if not (new[0] <= x[0] and new[1] <= x[1] and new[2] <= x[2])
                    ]
                    target.append((*new, (mask, last, label)))
    best: tuple[float, tuple[int, tuple[float, float, float, object]]] | None = None
    for last, front in labels[full].items():
        for label in front:
            finish, late, km = label[0], label[1], label[2]
            if p.back:
                finish += p.t[last][0]
                km += p.km[last][0]
            cost = finish - p.start_minute + LATE_PENALTY * late + km * 1e-6
            if best is None or cost < best[0] - 1e-9:
                best = (cost, (last, label))
    assert best is not None
    order: list[int] = []
    last, label = best[1]
    while True:
        order.append(last)
        parent = label[3]
        if parent is None:
            break
        _, last, label = parent  # type: ignore[misc]
    order.reverse()
    return order


def _nearest_neighbour(p: _Problem, rng: random.Random | None = None) -> list[int]:
    """Greedy: next is the stop reachable soonest (or, with windows, the most urgent one reachable)."""
    left = set(range(1, p.n + 1))
    order: list[int] = []
    prev, now = 0, p.start_minute
    while left:

        def score(j: int, prev: int = prev, now: float = now) -> float:
            arrive = now + p.t[prev][j]
            e, lt = p.earliest[j], p.latest[j]
            s = p.t[prev][j]
            if e is not None and arrive < e:
                s += e - arrive  # waiting counts
            if lt is not None:
                s += LATE_PENALTY * max(0.0, arrive - lt)
                s -= min(60.0, max(0.0, 120.0 - (lt - arrive)))  # urgent appointments first
            return s * (1.0 + (rng.random() * 0.3 if rng else 0.0))

        j = min(left, key=score)
        arrive = now + p.t[prev][j]
        e = p.earliest[j]
        now = max(arrive, e if e is not None else arrive) + p.service[j]
        order.append(j)
        left.remove(j)
        prev = j
    return order


def _improve(p: _Problem, order: list[int]) -> list[int]:
    """2-opt (segment reversal) and Or-opt (move a run of 1–3 stops) until no move improves.

    With time windows a move changes every later arrival, so candidates are priced by replaying the
    route — but only from the first changed position, from cached prefix states.
    """
    n = len(order)
    t, d = p.t, p.km
    earliest, latest, service = p.earliest, p.latest, p.service

    def prefixes(seq: list[int]) -> list[tuple[float, float, float, int]]:
        states = [(p.start_minute, 0.0, 0.0, 0)]
        now, late, km, prev = states[0]
        for i in seq:
            now += t[prev][i]
            km += d[prev][i]
            e, lt = earliest[i], latest[i]
            if e is not None and now < e:
                now = e
            if lt is not None and now > lt:
                late += now - lt
            now += service[i]
            prev = i
            states.append((now, late, km, prev))
        return states

    def finish_cost(state: tuple[float, float, float, int], tail: list[int]) -> float:
        now, late, km, prev = state
        for i in tail:
            now += t[prev][i]
            km += d[prev][i]
            e, lt = earliest[i], latest[i]
            if e is not None and now < e:
                now = e
            if lt is not None and now > lt:
                late += now - lt
            now += service[i]
            prev = i
        if p.back:
            now += t[prev][0]
            km += d[prev][0]
        return now - p.start_minute + LATE_PENALTY * late + km * 1e-6

    best = p.evaluate(order)[0]
    improved = True
    while improved:
        improved = False
        states = prefixes(order)
        for i in range(n - 1):
            for k in range(i + 1, n):
                tail = order[i : k + 1][::-1] + order[k + 1 :]
                cost = finish_cost(states[i], tail)
                if cost < best - 1e-9:
                    order, best, improved = order[:i] + tail, cost, True
                    states = prefixes(order)
        for length in (1, 2, 3):
            for i in range(n - length + 1):
                seg = order[i : i + length]
                rest = order[:i] + order[i + length :]
                rest_states = prefixes(rest)
                for j in range(len(rest) + 1):
                    if j == i:
                        continue
                    cost = finish_cost(rest_states[j], seg + rest[j:])
                    if cost < best - 1e-9:
                        order, best, improved = rest[:j] + seg + rest[j:], cost, True
                        break
    return order


def _local_search_distance(p: _Problem, order: list[int]) -> list[int]:
    """2-opt and Or-opt on travel time alone, each move priced in O(1).

    Without time windows the day's total is travel + visits, and visits do not depend on the order,
    so shortening the travel is exactly improving the objective.
    """
    t = p.t
    tour: list[int] = [0, *order] + ([0] if p.back else [])
    m = len(tour)

    def cost(a: int, b: int | None) -> float:
        return t[a][b] if b is not None else 0.0

    improved = True
    while improved:
        improved = False
        last = m - 1 if p.back else m
        for i in range(1, m - 1):
            for k in range(i + 1, last):
                a, b, c = tour[i - 1], tour[i], tour[k]
                d = tour[k + 1] if k + 1 < m else None
                if cost(a, c) + cost(b, d) < cost(a, b) + cost(c, d) - 1e-9:
                    tour[i : k + 1] = tour[i : k + 1][::-1]
                    improved = True
        for length in (1, 2, 3):
            i = 1
            while i + length <= last:
                seg = tour[i : i + length]
                a = tour[i - 1]
                after = tour[i + length] if i + length < m else None
                removed = cost(a, seg[0]) + cost(seg[-1], after) - cost(a, after)
                rest = tour[:i] + tour[i + length :]
                best_gain, best_at, best_seg = 1e-9, -1, seg
                for j in range(len(rest) - (1 if p.back else 0)):
                    if j == i - 1:
                        continue
                    c = rest[j]
                    d = rest[j + 1] if j + 1 < len(rest) else None
                    for cand in (seg, seg[::-1]):
                        added = cost(c, cand[0]) + cost(cand[-1], d) - cost(c, d)
                        if removed - added > best_gain:
                            best_gain, best_at, best_seg = removed - added, j, cand
                if best_at >= 0:
                    tour = rest[: best_at + 1] + best_seg + rest[best_at + 1 :]
                    improved = True
                i += 1
    return [i for i in tour if i != 0]


def plan_route(
    start: Point,
    stops: Sequence[Stop],
    *,
    start_minute: float = 9 * 60,
    return_to_start: bool = True,
    exact_limit: int = EXACT_LIMIT,
    speed_kmh: float = SPEED_KMH,
    restarts: int = 4,
    seed: int = 0,
) -> Route:
    """The best order found for ``stops`` (exact up to ``exact_limit`` stops)."""
    if len(stops) > MAX_STOPS:
        raise ValueError(f"at most {MAX_STOPS} stops")
    if len({s.key for s in stops}) != len(stops):
        raise ValueError("stop keys must be unique")
    p = _Problem(start, stops, start_minute, return_to_start, speed_kmh)
    if p.n == 0:
        return Route(order=[], finish=start_minute, exact=True)
    if p.n <= exact_limit:
        return p.route(_exact(p), exact=True)
    rng = random.Random(seed)  # noqa: S311 - reproducible restarts, not a secret
    if p.windowed and p.n > 25:
        restarts = min(restarts, 1)  # each full-evaluation local search is O(n^3) per pass
    candidates = [_nearest_neighbour(p)] + [_nearest_neighbour(p, rng) for _ in range(restarts)]
    best: list[int] | None = None
    best_cost = math.inf
    for order in candidates:
        order = _local_search_distance(p, order) if not p.windowed else _improve(p, order)
        cost = p.evaluate(order)[0]
        if cost < best_cost:
            best, best_cost = order, cost
    assert best is not None
    return p.route(best, exact=False)


def evaluate_order(
    start: Point,
    stops: Sequence[Stop],
    *,
    start_minute: float = 9 * 60,
    return_to_start: bool = True,
    speed_kmh: float = SPEED_KMH,
) -> Route:
    """The route of ``stops`` in the given order (a hand-made order is shown with its totals)."""
    p = _Problem(start, stops, start_minute, return_to_start, speed_kmh)
    return p.route(list(range(1, p.n + 1)), exact=False)
