"""Each test runs in a transaction that is rolled back: one commits, the next sees nothing."""

from sqlalchemy import func, select

from fieldwatch.extensions import db
from fieldwatch.models import User

MARK = "isolation-probe"


def test_a_commit_inside_a_test(app, make_user):
    make_user("member", login=MARK)
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(User.login == MARK)) == 1


def test_b_the_next_test_sees_nothing(app):
    assert db.session.scalar(select(func.count()).where(User.login == MARK)) == 0


def test_rollback_inside_a_test_keeps_earlier_commits(app, make_user):
    make_user("member", login="kept")
    db.session.add(User(login="dropped", name="x", role="member"))
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(User.login == "kept")) == 1
    assert db.session.scalar(select(func.count()).where(User.login == "dropped")) == 0
