"""Pure-Python work split across two cores: one half in a forked child, the other in this process.

Python runs one thread at a time, so CPU-bound work that touches no database, file or socket (an
import's search documents, say) can use a second core only in a second process. ``fork`` makes
that process a copy of this one: the data is there already, nothing is pickled on the way in;
only the child's result comes back, pickled through a pipe.

Nothing here can make the work fail that would have succeeded in one process: a platform without
``fork``, a single core, a child that fails, dies, or takes far longer than this process took for
its own half — in each case ``split`` returns ``None`` and the caller does the child's half itself.

The child must not touch anything it shares with this process (database connections above all):
it runs ``child``, writes its result and leaves with ``os._exit``, so no ``atexit`` handler,
buffered file or connection of the parent's is flushed or closed twice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# The child may take this many times as long as this process took for its half, at least
# MIN_WAIT seconds, before it is given up (killed) and its half done here.
SLOWER = 4.0
MIN_WAIT = 30.0


def available() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2


def split(child: Callable[[], T], parent: Callable[[], Any]) -> T | None:
    """Run ``child`` in a forked process while ``parent`` runs here; return the child's result,
    or None when there was none (see the module docstring) — the caller then runs ``child`` itself.
    Exceptions of ``parent`` propagate (the child is killed first)."""
    if not available():
        parent()
        return None
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        status = 1
        try:
            with os.fdopen(write_fd, "wb") as out:
                pickle.dump(child(), out, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        started = time.monotonic()
        parent()
        budget = max(MIN_WAIT, SLOWER * (time.monotonic() - started))
        result: T | None = _receive(read_fd, pid, budget)
        return result
    finally:
        _reap(pid)
        with contextlib.suppress(OSError):
            os.close(read_fd)


def _receive(read_fd: int, pid: int, budget: float) -> Any:
    deadline = time.monotonic() + budget
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_fd], [], [], left)[0]:
            return None  # too slow: given up, killed by _reap
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:
        return None
    try:
        return pickle.loads(b"".join(chunks))  # noqa: S301 - our own child's output, through our own pipe
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None


def _reap(pid: int) -> None:
    """Make sure the child is gone (killed if still running) and waited for."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return  # already waited for
    if done == 0:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
