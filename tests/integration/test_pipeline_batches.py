"""Stage messages that carry several submissions (podatelna.pipeline.runner.BATCH), through the
real brokers: encoded, queued, consumed and run by the workers to every submission's end."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

import schemas
from filing_registry import Filing, verify_chain
from intake import Incoming, IncomingFile, Sender
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.pipeline.stages import Next
from podatelna.service import file_submission
from tests.services import drop_redis_namespace, real_broker

pytestmark = pytest.mark.integration


@pytest.fixture(params=["redis", "rabbitmq"])
def app(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[App]:
    """PostgreSQL and a real broker, every submission stage by stage (so that the validate
    messages carry the forms), no workers yet."""
    broker = real_broker(request.param)
    a = App(
        load_settings(
            environ={},
            overrides={
                "data_dir": str(tmp_path / "var"),
                "database": {"url": pg_url},
                "broker": {**broker, "register_at_intake": False},
            },
        )
    )
    a.migrate()
    a.ensure_buckets()
    yield a
    a.close()
    if request.param == "redis":  # the shared Redis keeps nothing of this test's queues
        drop_redis_namespace(broker["namespace"])


def test_batched_messages_take_every_submission_to_its_end(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[Next] = []
    forms: dict[str, bytes] = {}

    def hold(messages: Sequence[Next], carried: Mapping[str, bytes]) -> None:
        held.extend(messages)
        forms.update(carried)

    monkeypatch.setattr(app.pipeline, "send_first", hold)  # intake sends nothing now
    samples = ["obecne-podani", "parkovani", "invalid-parkovani-spatna-rz"] * 2
    sids = [
        file_submission(
            app,
            Incoming(
                "cli",
                Sender("jana@example.cz"),
                IncomingFile("f.xml", io.BytesIO(schemas.sample_path(s).read_bytes()), "form"),
                idempotency_key=uuid.uuid4().hex,
            ),
        ).submission_id
        for s in samples
    ]
    assert [m[2] for m in held] == sids and set(forms) == set(sids)
    # six validate messages, with their forms, as two broker messages (4 + 2)
    assert app.pipeline.dispatch(held, forms=forms) == 2
    app.pipeline.start_workers(2, sweeper=False)
    ends = [wait_for(app, sid, timeout=90) for sid in sids]
    assert ends == ["completed", "completed", "rejected"] * 2
    with app.sessions() as s:
        numbers = sorted(s.execute(select(Filing.seq)).scalars())
        assert verify_chain(s).ok
    assert numbers == [1, 2, 3, 4]
