"""Alembic environment: runs on the connection handed in by :func:`filing_registry.migrate`."""

from __future__ import annotations

from alembic import context

from filing_registry import models  # noqa: F401 - registers the tables
from filing_registry.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - used only by the alembic command line
    from filing_registry.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    connection = engine.connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
