"""Route ordering: the exact solver is the optimum (checked by brute force), the heuristic stays close
to it, time windows are respected, bad input is refused."""

from __future__ import annotations

import itertools
import random

import pytest

from guanxi.followup import routing
from guanxi.followup.routing import Point, Stop, plan_route

OFFICE = Point(31.2304, 121.4737)  # 上海 人民广场


def _instance(rng: random.Random, n: int, windows: float = 0.0) -> list[Stop]:
    stops = []
    for i in range(n):
        earliest = latest = None
        if rng.random() < windows:
            earliest = 9 * 60 + rng.randrange(0, 420)
            latest = earliest + 30
        point = Point(31.23 + rng.uniform(-0.15, 0.15), 121.47 + rng.uniform(-0.15, 0.15))
        stops.append(Stop(f"s{i}", point, 30, earliest, latest))
    return stops


def _brute_force(stops: list[Stop], **kw) -> float:
    best = None
    for perm in itertools.permutations(stops):
        cost = routing.evaluate_order(OFFICE, list(perm), **kw).cost
        best = cost if best is None else min(best, cost)
    return best


def test_haversine_distance_between_known_cities():
    beijing, shanghai = Point(39.9042, 116.4074), Point(31.2304, 121.4737)
    assert 1060 < routing.haversine_km(beijing, shanghai) < 1075
    assert routing.road_km(beijing, shanghai) == pytest.approx(routing.haversine_km(beijing, shanghai) * 1.35)


@pytest.mark.parametrize("seed", range(12))
def test_exact_solver_is_optimal_on_small_instances(seed):
    rng = random.Random(seed)
    stops = _instance(rng, rng.randint(3, 7), windows=0.3 if seed % 2 else 0.0)
    route = plan_route(OFFICE, stops)
    assert route.exact
    assert sorted(route.order) == sorted(s.key for s in stops)
    assert route.cost == pytest.approx(_brute_force(stops), rel=1e-9)


def test_heuristic_is_close_to_the_optimum_on_random_instances():
    rng = random.Random(2026)
    gaps = []
    for _ in range(25):
        stops = _instance(rng, rng.randint(7, 9))
        exact = plan_route(OFFICE, stops)
        heuristic = plan_route(OFFICE, stops, exact_limit=0)
        assert heuristic.cost >= exact.cost - 1e-6
        gaps.append(heuristic.cost / exact.cost - 1)
    assert sum(gaps) / len(gaps) < 0.02
    assert max(gaps) < 0.10


def test_time_windows_are_respected_when_possible():
    rng = random.Random(5)
    stops = _instance(rng, 14)
    # Two appointments: one late in the morning, one early afternoon, far apart in the list.
    stops[3] = Stop("appt-am", stops[3].point, 60, earliest=11 * 60, latest=11 * 60)
    stops[10] = Stop("appt-pm", stops[10].point, 60, earliest=14 * 60, latest=14 * 60)
    route = plan_route(OFFICE, stops, start_minute=8 * 60)
    assert not route.exact
    assert route.late_minutes == 0
    legs = {leg.key: leg for leg in route.legs}
    assert legs["appt-am"].start == 11 * 60
    assert legs["appt-pm"].start == 14 * 60
    assert route.order.index("appt-am") < route.order.index("appt-pm")


def test_an_impossible_window_is_late_not_dropped():
    far = Point(31.9, 121.9)
    stops = [Stop("far", far, 30, earliest=9 * 60, latest=9 * 60), Stop("near", Point(31.24, 121.48), 30)]
    route = plan_route(OFFICE, stops, start_minute=9 * 60)
    assert route.order[0] == "far" and route.late_minutes > 0


def test_large_instances_finish_and_visit_everyone():
    rng = random.Random(9)
    stops = _instance(rng, 60, windows=0.05)
    route = plan_route(OFFICE, stops)
    assert sorted(route.order) == sorted(s.key for s in stops)
    naive = routing.evaluate_order(OFFICE, stops)
    assert route.cost < naive.cost


def test_hand_order_is_evaluated_as_given():
    stops = [Stop("a", Point(31.3, 121.5)), Stop("b", Point(31.2, 121.4))]
    route = routing.evaluate_order(OFFICE, stops)
    assert route.order == ["a", "b"] and route.total_km > 0 and len(route.legs) == 2


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="out of range"):
        Point(91, 0)
    with pytest.raises(ValueError, match="out of range"):
        Point(0, -181)
    with pytest.raises(ValueError, match="ends before"):
        Stop("x", OFFICE, 30, earliest=600, latest=500)
    with pytest.raises(ValueError, match="unique"):
        plan_route(OFFICE, [Stop("x", OFFICE), Stop("x", OFFICE)])
    assert plan_route(OFFICE, []).order == []
