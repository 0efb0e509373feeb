"""Issue pages: the report form without JavaScript, the list's filters, the detail's moves."""

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from fieldwatch.extensions import db
from fieldwatch.issues import services
from fieldwatch.models import Issue
from fieldwatch.photos.samples import sample_image


def field_errors(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, text in re.findall(r'data-field="([^"]+)">([^<]+)<', html):
        found.setdefault(name, []).append(text)
    return found


def form(**values):
    data = {"title": "路面塌陷", "category": "roads", "lon": "104.02", "lat": "30.05"}
    data.update(values)
    return data


@pytest.fixture
def reported(app, small_county, make_user):
    """Three issues in T1 by a member: reported, in progress with water (overdue), resolved."""
    member = make_user("member", login="reporter1", name="张三")
    admin = make_user("admin")
    made = []
    for title in ("排水沟堵塞", "井盖松动", "积水严重"):
        issue, _ = services.report_issue(
            member, title=title, category="drainage", lon=104.02, lat=30.05
        )
        made.append(issue)
    services.transition(made[1], "accepted", admin)
    services.transition(made[1], "in_progress", admin, unit="water", due_on="2099-01-01")
    made[1].due_on = date(2020, 1, 1)  # long past: overdue
    services.transition(made[2], "accepted", admin)
    services.transition(made[2], "in_progress", admin, unit="transport")
    services.transition(made[2], "resolved", admin, answer_class="A", note="已修")
    db.session.commit()
    return made


def test_form_page_is_the_phone_form(client, login_as):
    login_as("member")
    html = client.get("/issues/new").get_data(as_text=True)
    assert 'id="report-map"' in html
    assert 'accept="image/*" capture="environment" multiple' in html
    assert "js/offline-queue.js" in html and "js/issue-form.js" in html
    assert 'id="outbox"' in html


@pytest.mark.parametrize(
    "values, field",
    [
        ({"title": ""}, "title"),
        ({"category": "bogus"}, "category"),
        ({"lon": "181"}, "lon"),
        ({"lat": "north"}, "lat"),
    ],
    ids=["missing-title", "unknown-category", "lon-out-of-range", "lat-not-a-number"],
)
def test_form_errors_are_on_the_field_and_nothing_is_created(
    client, login_as, small_county, values, field
):
    login_as("member")
    response = client.post("/issues/new", data=form(**values))
    assert response.status_code == 422
    assert field in field_errors(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_form_posts_with_photos_and_lands_on_the_detail(client, login_as, small_county):
    login_as("member")
    response = client.post(
        "/issues/new",
        data=form(
            location_source="gps",
            accuracy_m="6",
            photos=[(io.BytesIO(sample_image()), "a.jpg")],
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    issue = db.session.scalar(select(Issue))
    assert response.headers["Location"].endswith(f"/issues/{issue.ref}")
    assert issue.location_source == "gps" and issue.accuracy_m == 6
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "路面塌陷" in html and f"/photos/{issue.photos[0].id}/thumb" in html


def test_a_fake_photo_on_the_form_is_a_field_error(client, login_as, small_county):
    login_as("member")
    response = client.post(
        "/issues/new",
        data=form(photos=[(io.BytesIO(b"\xff\xd8\xff\xe0 fake"), "x.jpg")]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "photos" in field_errors(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_unit_staff_cannot_open_the_form(client, login_as):
    login_as("unit", unit="water")
    assert client.get("/issues/new").status_code == 403


def test_list_filters_and_scope(client, login_as, reported):
    login_as("leader")
    html = client.get("/issues").get_data(as_text=True)
    assert all(i.ref in html for i in reported)
    overdue = client.get("/issues?overdue=y").get_data(as_text=True)
    assert reported[1].ref in overdue and reported[0].ref not in overdue
    resolved = client.get("/issues?status=resolved").get_data(as_text=True)
    assert reported[2].ref in resolved and reported[0].ref not in resolved
    by_unit = client.get("/issues?unit=water").get_data(as_text=True)
    assert reported[1].ref in by_unit and reported[2].ref not in by_unit
    none = client.get("/issues?q=nothing-like-this").get_data(as_text=True)
    assert "没有符合条件的问题" in none
    login_as("unit", unit="water")
    unit_html = client.get("/issues").get_data(as_text=True)
    assert reported[1].ref in unit_html and reported[0].ref not in unit_html


def test_detail_shows_moves_for_this_user_only(client, login_as, reported):
    login_as("leader")
    html = client.get(f"/issues/{reported[0].ref}").get_data(as_text=True)
    assert 'data-move="accept"' in html and 'data-move="reject"' in html
    assert "张三" in html  # staff see who reported it
    login_as("member")
    html = client.get(f"/issues/{reported[0].ref}").get_data(as_text=True)
    assert "data-move=" not in html and "张三" not in html
    login_as("unit", unit="water")
    html = client.get(f"/issues/{reported[1].ref}").get_data(as_text=True)
    assert 'data-move="resolve"' in html and 'data-move="reassign"' not in html
    assert client.get(f"/issues/{reported[0].ref}").status_code == 404
    assert client.get(f"/issues/{reported[1].id}").status_code == 302  # id → ref


def test_moves_from_the_page(client, login_as, reported):
    login_as("leader")
    ref = reported[0].ref
    response = client.post(f"/issues/{ref}/move", data={"move": "accept"})
    assert response.status_code == 302
    missing = client.post(f"/issues/{ref}/move", data={"move": "assign", "unit": ""})
    assert missing.status_code == 422 and "unit" in field_errors(missing.get_data(as_text=True))
    client.post(
        f"/issues/{ref}/move", data={"move": "assign", "unit": "water", "due_on": "2099-02-01"}
    )
    login_as("unit", unit="water")
    no_class = client.post(f"/issues/{ref}/move", data={"move": "resolve", "note": "修好了"})
    assert no_class.status_code == 422
    assert "answer_class" in field_errors(no_class.get_data(as_text=True))
    done = client.post(
        f"/issues/{ref}/move", data={"move": "resolve", "answer_class": "B", "note": "排期处理"}
    )
    assert done.status_code == 302
    issue = db.session.get(Issue, reported[0].id)
    assert issue.status == "resolved" and issue.answer_class == "B"
    html = client.get(f"/issues/{ref}").get_data(as_text=True)
    assert "排期处理" in html and "办结答复" in html


def test_comment_from_the_page(client, login_as, reported):
    login_as("unit", unit="water")
    ref = reported[1].ref
    assert client.post(f"/issues/{ref}/comment", data={"note": "已派人查看"}).status_code == 302
    assert "已派人查看" in client.get(f"/issues/{ref}").get_data(as_text=True)
    empty = client.post(f"/issues/{ref}/comment", data={"note": ""})
    assert empty.status_code == 422 and "note" in field_errors(empty.get_data(as_text=True))


def test_nul_characters_on_the_form_are_dropped(client, login_as, small_county):
    login_as("member")
    response = client.post("/issues/new", data=form(title="路面\x00塌陷", category="ro\x00ads"))
    assert response.status_code == 302
    assert db.session.scalar(select(Issue.title)) == "路面塌陷"


def test_unit_adds_photos_of_the_work_all_or_none(client, login_as, reported):
    login_as("unit", unit="water")
    ref = reported[1].ref
    bad = client.post(
        f"/issues/{ref}/photos",
        data={
            "photos": [(io.BytesIO(sample_image()), "ok.jpg"), (io.BytesIO(b"GIF89a..."), "x.gif")]
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "photos" in field_errors(bad.get_data(as_text=True))
    assert db.session.get(Issue, reported[1].id).photos == []
    good = client.post(
        f"/issues/{ref}/photos",
        data={"photos": [(io.BytesIO(sample_image()), "after.jpg")]},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert len(db.session.get(Issue, reported[1].id).photos) == 1
    assert client.post(f"/issues/{reported[0].ref}/photos", data={}).status_code == 404
