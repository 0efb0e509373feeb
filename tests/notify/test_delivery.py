"""Delivering the outbox to a real SMTP server and an HTTP sink: retries, backoff, never twice."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.models import OutboxMessage
from fieldwatch.notify import delivery
from fieldwatch.notify.services import enqueue

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def channels(app, smtp_server, http_sink):
    saved = dict(app.config)
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_FROM="noreply@fieldwatch.example",
        WEBHOOK_URL=http_sink.url,
        BASE_URL="https://fw.example.gov.cn",
    )
    yield smtp_server, http_sink
    app.config.clear()
    app.config.update(saved)


def queue(user, kind="assigned", key="k1", subject="新交办问题 FW-2026-000001：井盖松动"):
    assert enqueue(user, kind, key, lambda: (subject, "问题已交由水务局办理。\n查看：…"))
    db.session.commit()
    return db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))


def test_email_delivered_once_even_when_run_twice(channels, make_user, runner, freeze):
    mailbox, _ = channels
    freeze(NOW)
    user = make_user("unit", name="王工", email="wang@example.org")
    message = queue(user)
    first = runner.invoke(["notify", "--no-scan"])
    assert first.exit_code == 0, first.output
    assert "sent 1," in first.output
    second = runner.invoke(["notify", "--no-scan"])
    assert "sent 0," in second.output
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == "王工 <wang@example.org>"
    assert mail["Subject"] == "[有事来协商] 新交办问题 FW-2026-000001：井盖松动"
    assert "水务局" in mail.get_content()
    assert f"fw-outbox-{message.id}" in mail["Message-ID"]
    message = db.session.get(OutboxMessage, message.id)
    assert message.sent_at == NOW and message.attempts == 1 and message.claimed_at is not None


def test_webhook_retries_with_backoff_then_succeeds(channels, make_user, freeze):
    _, sink = channels
    sink.fail = 2
    freeze(NOW)
    user = make_user("member", name="李娜", phone="13800000000")  # no e-mail: the group robot
    message = queue(user, kind="lookback_due", key="f1")
    assert message.channel == "webhook"
    report = delivery.deliver()
    assert (report.sent, report.retry) == (0, 1)
    message = db.session.get(OutboxMessage, message.id)
    assert message.attempts == 1 and "500" in message.last_error
    assert message.claimed_at is None and message.next_try_at == NOW + timedelta(minutes=1)
    # not due yet: nothing is tried
    assert delivery.deliver().retry == 0 and len(sink.posts) == 1
    freeze(NOW + timedelta(minutes=1))
    assert delivery.deliver().retry == 1
    message = db.session.get(OutboxMessage, message.id)
    assert message.next_try_at == NOW + timedelta(minutes=3)  # 1 + 2 minutes: doubling
    freeze(NOW + timedelta(minutes=3))
    report = delivery.deliver()
    assert report.sent == 1
    assert len(sink.posts) == 3 and len(sink.delivered()) == 1
    body = sink.delivered()[0]["body"]
    assert body["msgtype"] == "text"
    assert body["text"]["content"].startswith("@李娜 [有事来协商] 新交办问题")
    assert body["text"]["mentioned_mobile_list"] == ["13800000000"]
    assert sink.delivered()[0]["content_type"].startswith("application/json")
    message = db.session.get(OutboxMessage, message.id)
    assert message.sent_at is not None and message.attempts == 3 and message.last_error is None
    freeze(NOW + timedelta(hours=1))
    assert delivery.deliver().sent == 0 and len(sink.posts) == 3


def test_robot_errcode_is_a_failure(channels, make_user, freeze):
    _, sink = channels
    sink.answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
    freeze(NOW)
    message = queue(make_user("member"))
    assert delivery.deliver().retry == 1
    assert "45009" in db.session.get(OutboxMessage, message.id).last_error


def test_gives_up_after_max_attempts(channels, make_user, freeze):
    _, sink = channels
    sink.fail = 100
    freeze(NOW)
    message = queue(make_user("member"))
    at = NOW
    for _ in range(delivery.MAX_ATTEMPTS):
        report = delivery.deliver()
        at += timedelta(hours=7)
        freeze(at)
    assert report.failed == 1
    assert len(sink.posts) == delivery.MAX_ATTEMPTS
    assert delivery.deliver().failed == 0 and len(sink.posts) == delivery.MAX_ATTEMPTS
    from fieldwatch.notify.queries import state_of

    assert state_of(db.session.get(OutboxMessage, message.id)) == "failed"


def test_permanent_problems_are_not_retried(app, make_user, freeze):
    freeze(NOW)
    app.config.pop("WEBHOOK_URL", None)
    message = queue(make_user("member"))  # no e-mail, and no robot configured
    report = delivery.deliver()
    assert report.failed == 1 and report.retry == 0
    message = db.session.get(OutboxMessage, message.id)
    assert message.attempts == delivery.MAX_ATTEMPTS and "webhook" in message.last_error


def test_smtp_down_is_retried(app, make_user, freeze):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    freeze(NOW)
    message = queue(make_user("member", email="a@example.org"))
    try:
        report = delivery.deliver()
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25)
    assert report.retry == 1
    assert "Connection" in db.session.get(OutboxMessage, message.id).last_error


def test_a_stale_claim_is_flagged_not_resent(channels, make_user, freeze, runner):
    mailbox, _ = channels
    freeze(NOW)
    message = queue(make_user("member", email="a@example.org"))
    # a run claimed it and died before marking it sent
    assert delivery.claim() == [message.id]
    freeze(NOW + timedelta(minutes=5))
    assert delivery.deliver().sent == 0  # still being sent, as far as anyone knows
    freeze(NOW + timedelta(minutes=20))
    result = runner.invoke(["notify", "--no-scan"])
    assert "sent 0, will retry 0, failed 0, interrupted 1" in result.output
    assert mailbox.messages == []
    message = db.session.get(OutboxMessage, message.id)
    assert message.sent_at is None and message.last_error == delivery.INTERRUPTED
    # an admin who checked that it never arrived sends it again
    admin = make_user("admin")
    delivery.requeue(message.id, actor=admin)
    db.session.commit()
    assert delivery.deliver().sent == 1 and len(mailbox.messages) == 1


def test_admin_outbox_page_and_requeue(client, login_as, make_user, freeze, app):
    freeze(NOW)
    app.config.pop("WEBHOOK_URL", None)
    message = queue(make_user("member", name="赵六"))
    delivery.deliver()
    login_as("admin")
    page = client.get("/admin/notifications?state=failed")
    assert page.status_code == 200 and "赵六" in page.text and "webhook" in page.text
    response = client.post(f"/admin/notifications/{message.id}/requeue")
    assert response.status_code == 302
    message = db.session.get(OutboxMessage, message.id)
    assert message.attempts == 0 and message.last_error is None
    assert "赵六" in client.get("/admin/notifications?state=waiting").text
