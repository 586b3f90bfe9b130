"""Failpoints for crash tests: kill this process with SIGKILL at a named point.

Armed only by the ``failpoints`` setting (for example
``PODATELNA_FAILPOINTS=register:after_number``), which production never sets. A crash test arms
one point in a worker process, waits for the process to die there, and restarts the worker to
see that the pipeline finishes every submission without loss or double numbering.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

_armed: frozenset[str] = frozenset()


def arm(points: tuple[str, ...] | list[str] | frozenset[str]) -> None:
    global _armed
    _armed = frozenset(points)
    if _armed:
        log.warning("failpoints armed (crash testing only): %s", ", ".join(sorted(_armed)))


def hit(point: str) -> None:
    if point in _armed:
        log.warning("failpoint %s reached: killing this process", point)
        os.kill(os.getpid(), signal.SIGKILL)
