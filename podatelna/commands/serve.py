"""``podatelna serve`` (HTTP API, plus workers on embedded defaults) and ``podatelna worker``."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from podatelna.commands._common import open_app

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the HTTP API (and, in-process, the workers)")
    p.add_argument("--host", help="address to listen on (default from web.host)")
    p.add_argument("--port", type=int, help="port (default from web.port)")
    p.add_argument(
        "--workers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run pipeline workers in this process (default: yes with the "
        "in-process broker, no otherwise)",
    )
    p.set_defaults(func=run_serve)

    w = sub.add_parser("worker", help="run pipeline workers (and the sweeper)")
    w.add_argument("--threads", type=int, help="worker threads (default broker.worker_threads)")
    w.set_defaults(func=run_worker)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from podatelna.web.api import create_api

    settings = args.settings
    app = open_app(args)
    workers = args.workers if args.workers is not None else settings.broker.kind == "inprocess"
    api = create_api(app, run_workers=workers)
    uvicorn.run(
        api,
        host=args.host or settings.web.host,
        port=args.port or settings.web.port,
        log_level="info",
    )
    app.close()
    return 0


def run_worker(args: argparse.Namespace) -> int:
    app = open_app(args)
    if app.settings.broker.kind == "inprocess":
        log.warning(
            "the in-process broker has no queue shared with other processes: a separate "
            "worker only sees work from its own sweeper; use redis or rabbitmq"
        )
    app.ensure_buckets()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    app.pipeline.start_workers(args.threads)
    log.info("worker running; SIGTERM or Ctrl-C stops it")
    app.pipeline.sweep()
    stop.wait()
    app.close()
    return 0
