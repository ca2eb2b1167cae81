"""core.forked: work split with a forked child, and every way the child can fail falls back."""

from __future__ import annotations

import os
import time

import pytest

from guanxi.core import forked

pytestmark = pytest.mark.skipif(not forked.available(), reason="needs fork and two cores")


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_child_returns_its_result_while_the_parent_runs_its_half():
    ran = []
    result = forked.split(lambda: [os.getpid(), sum(range(1000))], lambda: ran.append(os.getpid()))
    assert result is not None
    child_pid, total = result
    assert total == 499500
    assert ran == [os.getpid()] and child_pid != os.getpid()
    assert _no_children_left()


def test_a_large_result_comes_through_the_pipe_whole():
    big = ["文档" * 50 + str(i) for i in range(50_000)]  # ~5 MB, many times the pipe's buffer
    assert forked.split(lambda: big, lambda: None) == big


def test_a_failing_child_gives_none_so_the_caller_does_its_half():
    def boom() -> None:
        raise RuntimeError("child fails")

    assert forked.split(boom, lambda: None) is None
    assert _no_children_left()


def test_an_unpicklable_result_gives_none():
    assert forked.split(lambda: lambda: 1, lambda: None) is None
    assert _no_children_left()


def test_a_child_far_slower_than_the_parent_is_killed_and_given_up(monkeypatch):
    monkeypatch.setattr(forked, "MIN_WAIT", 0.2)
    started = time.monotonic()
    assert forked.split(lambda: time.sleep(30), lambda: None) is None
    assert time.monotonic() - started < 10
    assert _no_children_left()


def test_the_parents_exception_propagates_and_the_child_is_reaped():
    def parent() -> None:
        raise ValueError("parent fails")

    with pytest.raises(ValueError, match="parent fails"):
        forked.split(lambda: time.sleep(30), parent)
    assert _no_children_left()
