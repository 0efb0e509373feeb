"""Add problems, visits and look-backs to a live server's demo county (run with the server's env).

Run as a script: `python tests/ogc/seed_live.py` with FIELDWATCH_DATABASE_URL set. It goes
through the reporting and lifecycle services, like the phone form does, and prints the counts.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select, text

from fieldwatch import clock, create_app
from fieldwatch.auth.services import create_user
from fieldwatch.extensions import db
from fieldwatch.geo import point_element
from fieldwatch.issues import services
from fieldwatch.models import Followup, User, Visit, VisitStop

CATEGORIES = ("roads", "drainage", "sanitation", "parking", "safety")
#: personal data the layers must never show
REPORTER = {"login": "seed_reporter", "name": "王小明", "phone": "13800001111"}
INSPECTOR = {"login": "seed_inspector", "name": "赵督办", "phone": "13700000000"}


def main() -> None:
    app = create_app()
    with app.app_context():
        reporter = create_user(
            REPORTER["login"], "member", REPORTER["name"], phone=REPORTER["phone"]
        )
        inspector = create_user(
            INSPECTOR["login"], "supervisor", INSPECTOR["name"], phone=INSPECTOR["phone"]
        )
        admin = db.session.scalar(select(User).where(User.login == "admin"))
        spots = db.session.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) AS p FROM areas "
                "WHERE level = 'township' AND boundary IS NOT NULL ORDER BY code) s"
            )
        ).all()
        issues = []
        for n, (lon, lat) in enumerate(spots):
            for k in range(2):
                issue, _ = services.report_issue(
                    reporter,
                    title=f"问题 {n}-{k}",
                    category=CATEGORIES[(n + k) % len(CATEGORIES)],
                    lon=lon + 0.002 * k,
                    lat=lat - 0.001 * k,
                    description="现场发现",
                    source="open311" if k else "field",
                    contact_name="李四" if k else None,
                    contact_phone="13912345678" if k else None,
                )
                issues.append(issue)
        for issue in issues[::3]:
            services.transition(issue, "accepted", admin)
            services.transition(issue, "in_progress", admin, unit="water")
        visits = []
        for v in range(3):
            visit = Visit(
                title=f"走访 {v}",
                form="on_site",
                status="planned",
                planned_for=clock.today() + timedelta(days=v),
                leader_id=admin.id,
                township_id=issues[v * 4].township_id,
                participants={"members": [reporter.id]},
            )
            db.session.add(visit)
            db.session.flush()
            for position, issue in enumerate(issues[v * 4 : v * 4 + 3]):
                db.session.add(
                    VisitStop(
                        visit_id=visit.id,
                        position=position,
                        issue_id=issue.id,
                        location=issue.location,
                    )
                )
            visits.append(visit)
        db.session.add(
            Visit(title="书面协商", form="written", planned_for=date(2026, 1, 5), status="held")
        )
        for n, issue in enumerate(issues[:6]):
            done = n % 2 == 0
            db.session.add(
                Followup(
                    issue_id=issue.id,
                    due_on=clock.today() - timedelta(days=n),
                    done_at=clock.now() if done else None,
                    inspector_id=inspector.id if done else None,
                    location=point_element(104.5, 30.1) if done else None,
                    finding="solved" if done else None,
                    township_id=issue.township_id,
                )
            )
        db.session.add(Followup(visit_id=visits[0].id, kind="visit", due_on=clock.today()))
        db.session.commit()
        print(json.dumps({"issues": len(issues), "visits": len(visits) + 1}))


if __name__ == "__main__":
    main()
