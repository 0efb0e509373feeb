"""`fieldwatch notify` as separate processes on a real database (real commits, real row locks).

Two runs at once never send the same message (SELECT … FOR UPDATE SKIP LOCKED);
a run killed between sending and marking leaves one message in doubt, which
no later run resends (at most once).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def real_db(pg_instance, template_database, tmp_path):
    """A copy of the demo county that is really committed to, and an env to run commands on it."""
    from fieldwatch import create_app, pg

    name = f"fw_notify_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    url = pg.ensure_database(pg_instance, name, template=template_database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env.update(
        FIELDWATCH_DATABASE_URL=url,
        FIELDWATCH_INSTANCE=str(tmp_path),
        FIELDWATCH_SECRET_KEY="notify-test",
        FIELDWATCH_SMTP_HOST="127.0.0.1",
    )
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "INSTANCE": str(tmp_path),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "FIELDWATCH_TIMEZONE": "Asia/Shanghai",
        }
    )
    app.env_for_commands = env
    with app.app_context():
        from sqlalchemy import text

        from fieldwatch.extensions import db

        # the demo county's own history queued messages: count only this test's
        db.session.execute(text("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL"))
        db.session.commit()
    try:
        yield app
    finally:
        from fieldwatch.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        pg.drop_database(pg_instance, name)


def _queue(app, count: int) -> list[int]:
    from fieldwatch.extensions import db
    from fieldwatch.models import OutboxMessage, User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "unit"))
        user.email = "unit@example.org"
        for i in range(count):
            db.session.add(
                OutboxMessage(
                    user_id=user.id,
                    kind="assigned",
                    channel="email",
                    subject=f"消息 {i}",
                    body="正文",
                    data={},
                    dedupe_key=f"test:{i}",
                    attempts=0,
                )
            )
        db.session.commit()
        return list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.dedupe_key.startswith("test:"))
                .order_by(OutboxMessage.id)
            )
        )


def _notify(env, port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fieldwatch", "notify", "--no-scan", *extra],
        env={**env, "FIELDWATCH_SMTP_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def _sent(output: str) -> int:
    line = [x for x in output.splitlines() if x.startswith("sent ")][-1]
    return int(line.split()[1].rstrip(","))


def test_two_runs_at_once_send_each_message_once(real_db, smtp_server):
    smtp_server.delay = 0.05  # a slow server, so that the runs overlap
    ids = _queue(real_db, 30)
    runs = [_notify(real_db.env_for_commands, smtp_server.port) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    counts = [_sent(out) for out, _ in outputs]
    assert sum(counts) == 30, counts
    print("split between the two runs:", counts)
    received = smtp_server.ids()
    assert len(received) == 30 and len(set(received)) == 30
    for message_id in ids:
        assert sum(f".fw-outbox-{message_id}@" in m for m in received) == 1
    # a third run finds nothing left
    out, _ = _notify(real_db.env_for_commands, smtp_server.port).communicate(timeout=60)
    assert _sent(out) == 0 and len(smtp_server.messages) == 30


CRASH = """
import os
from fieldwatch import create_app
from fieldwatch.notify import delivery

def die(message):
    os._exit(3)  # killed after the send, before the mark

delivery._mark_sent = die
app = create_app()
with app.app_context():
    delivery.deliver()
"""


def test_a_crash_between_send_and_mark_never_resends(real_db, smtp_server):
    from fieldwatch.extensions import db
    from fieldwatch.models import OutboxMessage
    from fieldwatch.notify.delivery import INTERRUPTED

    ids = _queue(real_db, 3)
    env = {**real_db.env_for_commands, "FIELDWATCH_SMTP_PORT": str(smtp_server.port)}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH], env=env, capture_output=True, text=True, cwd=REPO
    )
    assert crashed.returncode == 3, crashed.stderr
    assert len(smtp_server.messages) == 1
    # the next run sends the other two and not the one in doubt
    out, err = _notify(real_db.env_for_commands, smtp_server.port).communicate(timeout=60)
    assert _sent(out) == 2, err
    assert len(smtp_server.messages) == 3
    assert len(set(smtp_server.ids())) == 3
    # later, the claim is old: it is reported as interrupted, still not resent
    later = {**real_db.env_for_commands, "FIELDWATCH_FAKE_NOW": "2099-01-01T00:00:00+00:00"}
    out, _ = _notify(later, smtp_server.port).communicate(timeout=60)
    assert "sent 0, will retry 0, failed 0, interrupted 1" in out
    assert len(smtp_server.messages) == 3
    with real_db.app_context():
        doubt = db.session.get(OutboxMessage, ids[0])
        assert doubt.sent_at is None and doubt.last_error == INTERRUPTED
        assert all(db.session.get(OutboxMessage, i).sent_at for i in ids[1:])
