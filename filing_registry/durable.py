"""Waiting for commits to be durable on PostgreSQL, shared among the threads that wait at once.

The pipeline's hot transactions commit with ``synchronous_commit = off`` (their locks, the audit
chain's head and a reference counter, are released as soon as the commit record is written) and
then wait for durability with a *flush barrier*: a transaction that takes a transaction id and
commits synchronously returns only once the WAL is flushed past its own commit record, hence
past every commit record written before it began (the WAL is flushed in order).

One barrier that *begins* after a commit covers that commit, whoever runs it. So the threads of
a process that need a barrier at the same time share one: the first runs it on its own
connection, and the others wait for it, or for the next one if theirs began too early. Under
load that is one barrier transaction for a group of commits instead of one each (group commit
on the client side; PostgreSQL's own group commit then shares the disk flushes of the groups of
several processes). A barrier that fails releases nobody: the next waiter runs another one, and
the one that failed raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class FlushGroup:
    """Shares flush barriers among threads (see the module documentation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._begun = 0  # barriers begun so far, numbered from 1
        self._done = 0  # the highest barrier that completed (they run one at a time, in order)
        self._running = False
        #: barriers run, and waits answered by another thread's barrier (for the tests)
        self.barriers = 0
        self.shared = 0

    def wait(self, barrier: Callable[[], Any]) -> None:
        """Return once a barrier that began after this call was made has completed: this
        thread runs ``barrier`` itself when none is running, else waits for one that began
        late enough. Raises what ``barrier`` raised if this thread's run of it failed."""
        with self._cond:
            ticket = self._begun + 1  # barriers numbered from here on begin after this call
            while self._done < ticket:
                if not self._running:
                    self._running = True
                    self._begun += 1
                    number = self._begun
                    break
                self._cond.wait()
            else:
                self.shared += 1
                return
        completed = False
        try:
            barrier()
            completed = True
        finally:
            with self._cond:
                self._running = False
                if completed:
                    self._done = number
                    self.barriers += 1
                self._cond.notify_all()


_GROUPS: dict[str, FlushGroup] = {}
_GROUPS_LOCK = threading.Lock()


def flush_group(database: str) -> FlushGroup:
    """The flush group of this process for ``database`` (a URL without its password)."""
    group = _GROUPS.get(database)
    if group is None:
        with _GROUPS_LOCK:
            group = _GROUPS.setdefault(database, FlushGroup())
    return group


#: takes a transaction id, so its (synchronous) commit writes a commit record and waits for it
FLUSH_BARRIER = "SELECT txid_current()"


def run_barrier(raw: Any) -> None:
    """One flush barrier on the psycopg connection ``raw`` (idle, no transaction open): the
    statement in autocommit, its own transaction committed synchronously, one round trip."""
    raw.autocommit = True
    try:
        raw.execute(FLUSH_BARRIER)
    finally:
        raw.autocommit = False
