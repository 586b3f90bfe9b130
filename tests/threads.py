"""Running test work in several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def run_together(
    target: Callable[..., Any], args: Sequence[tuple[Any, ...]], *, timeout: float
) -> None:
    """Call ``target(*a)`` for every ``a`` in ``args``, each in its own thread, all released at
    the same moment (a barrier); wait up to ``timeout`` seconds for each, then fail with every
    exception the calls raised and if any of them is still running."""
    start = threading.Barrier(len(args))
    errors: list[BaseException] = []

    def run(a: tuple[Any, ...]) -> None:
        try:
            start.wait(30)
            target(*a)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), f"a thread ran over {timeout} s"
