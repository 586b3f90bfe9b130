"""The flush group: a thread returns only after a barrier that *began after it asked* completed,
barriers are shared by the threads that wait at once, and a failed barrier releases nobody."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from filing_registry.durable import FlushGroup


class Clock:
    """A strictly increasing event counter shared by the threads of a test."""

    def __init__(self) -> None:
        self._next = itertools.count()
        self._lock = threading.Lock()

    def tick(self) -> int:
        with self._lock:
            return next(self._next)


def test_each_waiter_is_covered_by_a_barrier_that_began_after_it_asked() -> None:
    group = FlushGroup()
    clock = Clock()
    barriers: list[tuple[int, int]] = []  # (began, ended)
    waits: list[tuple[int, int]] = []  # (asked, returned)
    lock = threading.Lock()

    def barrier() -> None:
        began = clock.tick()
        time.sleep(0.002)  # long enough for others to arrive while it runs
        with lock:
            barriers.append((began, clock.tick()))

    def waiter() -> None:
        for _ in range(40):
            asked = clock.tick()
            group.wait(barrier)
            returned = clock.tick()
            with lock:
                waits.append((asked, returned))

    threads = [threading.Thread(target=waiter) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(waits) == 320
    for asked, returned in waits:
        assert any(asked < began and ended < returned for began, ended in barriers), (
            f"the wait asked at {asked} returned at {returned} without a barrier begun after it"
        )
    # shared: far fewer barriers than waits, and every wait accounted for
    assert group.barriers == len(barriers) < len(waits) / 2
    assert group.barriers + group.shared == len(waits)


def test_one_thread_alone_runs_its_own_barrier_each_time() -> None:
    group = FlushGroup()
    runs = []
    for i in range(3):
        group.wait(lambda i=i: runs.append(i))
    assert runs == [0, 1, 2]
    assert (group.barriers, group.shared) == (3, 0)


def test_a_failed_barrier_releases_nobody_and_the_next_waiter_runs_another() -> None:
    group = FlushGroup()
    started = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    def failing() -> None:
        calls.append("failing")
        started.set()
        release.wait(5)
        raise ConnectionError("the database went away")

    def working() -> None:
        calls.append("working")

    errors: list[BaseException] = []

    def leader() -> None:
        try:
            group.wait(failing)
        except ConnectionError as exc:
            errors.append(exc)

    first = threading.Thread(target=leader)
    first.start()
    assert started.wait(5)
    follower_done = threading.Event()

    def follower() -> None:
        group.wait(working)
        follower_done.set()

    second = threading.Thread(target=follower)
    second.start()
    time.sleep(0.05)
    assert not follower_done.is_set()  # waits while the (failing) barrier runs
    release.set()
    first.join(5)
    second.join(5)
    assert follower_done.is_set()
    assert [type(e) for e in errors] == [ConnectionError]
    assert calls == ["failing", "working"]  # the follower ran a barrier of its own
    assert (group.barriers, group.shared) == (1, 0)


def test_a_waiter_that_arrives_during_a_barrier_waits_for_the_next_one() -> None:
    group = FlushGroup()
    in_first = threading.Event()
    release_first = threading.Event()
    order: list[str] = []

    def first_barrier() -> None:
        order.append("first began")
        in_first.set()
        release_first.wait(5)
        order.append("first ended")

    def second_barrier() -> None:
        order.append("second began")

    t1 = threading.Thread(target=group.wait, args=(first_barrier,))
    t1.start()
    assert in_first.wait(5)
    t2 = threading.Thread(target=lambda: (group.wait(second_barrier), order.append("late back")))
    t2.start()
    time.sleep(0.05)
    release_first.set()
    t1.join(5)
    t2.join(5)
    # the late thread did not take the first barrier (begun before it asked) for its own
    assert order == ["first began", "first ended", "second began", "late back"]


@pytest.mark.parametrize("threads", [2, 16])
def test_no_thread_is_left_waiting(threads: int) -> None:
    group = FlushGroup()
    done = []

    def run() -> None:
        for _ in range(200):
            group.wait(lambda: None)
        done.append(1)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert len(done) == threads
