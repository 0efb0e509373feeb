"""Demo look-backs (回头看) of every kind, made through the services with the clock set to each day.

Problems are reported, assigned, resolved and looked back at on the days the story
says (relative to today), so timelines, due dates, overdue days and the board's
counters all read true: look-backs done on site and off site (too far, or with no
position), solved / partly / unsolved / regressed, reworks, overdue ones, ones due
this week, class B on a planned date, class C waiting for review or closed by a
supervisor, spot checks and extra look-backs with assigned inspectors, and one busy
crossing with three problems and five look-backs in two years.

The problems' own demo leaves their look-backs to this one: most of those already
due are done here on plausible days (a few late, a few left overdue).

Called by `fieldwatch demo load` after the problems' own demo; idempotent (problems
whose `client_id` starts with "demo-lookback-" mark it as done).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from pyproj import Geod
from sqlalchemy import select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.followups.services import record_followup, schedule_followup
from fieldwatch.geo import lonlat_of
from fieldwatch.issues import services as issues
from fieldwatch.models import Area, Followup, Issue, Unit, User

PREFIX = "demo-lookback-"
GEOD = Geod(ellps="WGS84")
NOTES = {
    "solved": ("现场查看已整改到位，群众反映良好。", "已修复，连续两次雨后查看无积水。",
               "设施已更换，周边已清理干净。"),
    "partly": ("主体已整改，但附属设施尚未恢复。", "已清理大部分，仍有少量堆放。"),
    "unsolved": ("现场查看问题依旧，群众意见较大。", "承办单位答复已办结，但现场未见整改。"),
    "regressed": ("整改后再次出现，需查找根源。",),
}  # fmt: skip


class _Story:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.today = clock.today()
        self.count = 0
        by_login = {u.login: u for u in db.session.scalars(select(User))}
        self.admin = by_login.get("admin")
        self.leader = by_login.get("leader") or self.admin
        self.supervisor = by_login.get("supervisor") or self.admin
        self.member = by_login.get("member")
        self.inspectors = [u for k, u in sorted(by_login.items())
                           if u.role == "member" and u.township_id is None] or [self.member]  # fmt: skip
        self.scoped_member = next(
            (u for u in by_login.values() if u.role == "member" and u.township_id), None
        )
        self.unit_staff = {
            u.unit.code: u for u in by_login.values() if u.role == "unit" and u.unit is not None
        }
        self.units = [c for c in ("water", "transport", "sanitation")
                      if db.session.scalar(select(Unit.id).where(Unit.code == c))]  # fmt: skip
        self.offices = db.session.execute(
            select(Area.id, Area.parent_id, Area.location)
            .where(Area.level == "village", Area.location.is_not(None))
            .order_by(Area.code)
        ).all()

    # --- time and place ----------------------------------------------------------------
    def at(self, days_ago: int, hour: int = 10) -> datetime:
        day = self.today - timedelta(days=days_ago)
        return datetime.combine(day, time(hour), tzinfo=clock.zone()).astimezone(UTC)

    def spot(self, township_id: int | None = None) -> tuple[float, float]:
        """A point 40–250 m from a village office (in `township_id` when given)."""
        offices = [o for o in self.offices if township_id is None or o.parent_id == township_id]
        office = self.rng.choice(offices or self.offices)
        lon, lat = lonlat_of(office.location)
        x, y, _ = GEOD.fwd(lon, lat, self.rng.uniform(0, 360), self.rng.uniform(40, 250))
        return round(x, 6), round(y, 6)

    @staticmethod
    def near(point: tuple[float, float], metres: float, bearing: float = 45.0):
        x, y, _ = GEOD.fwd(point[0], point[1], bearing, metres)
        return round(x, 7), round(y, 7)

    # --- the lifecycle, through the services -------------------------------------------------
    def report(self, days_ago, title, category, unit=None, point=None, deadline_days=None):
        self.count += 1
        point = point or self.spot()
        unit = unit if unit in self.units else (self.units[0] if self.units else None)
        with clock.frozen(self.at(days_ago, 9)):
            issue, _ = issues.report_issue(
                self.rng.choice(self.inspectors), title=title, category=category,
                lon=point[0], lat=point[1], accuracy_m=round(self.rng.uniform(4, 25), 1),
                location_source="gps", client_id=f"{PREFIX}{self.count:03d}",
            )  # fmt: skip
        with clock.frozen(self.at(days_ago, 11)):
            issues.transition(issue, "accepted", self.leader)
        with clock.frozen(self.at(days_ago, 15)):
            due = None
            if deadline_days is not None:
                due = clock.today() + timedelta(days=deadline_days)
            issues.transition(issue, "in_progress", self.leader, unit=unit, due_on=due)
        return issue

    def resolve(self, issue, days_ago, answer="A", planned_in=None, note=None):
        staff = self.unit_staff.get(issue.unit.code) if issue.unit else None
        with clock.frozen(self.at(days_ago, 16)):
            planned = clock.today() + timedelta(days=planned_in) if planned_in else None
            text = note or {"A": "已按要求整改完毕。", "B": "已列入计划，分步实施。",
                            "C": "受规划和资金限制暂不具备条件，已向群众解释。"}[answer]  # fmt: skip
            issues.transition(issue, "resolved", staff or self.leader, answer_class=answer,
                              note=text, due_on=planned)  # fmt: skip

    def look(self, issue, days_ago, finding, where="on", satisfaction=None, inspector=None,
             followup=None, photo=False):  # fmt: skip
        followup = followup or db.session.scalar(
            select(Followup).where(Followup.issue_id == issue.id, Followup.done_at.is_(None))
            .order_by(Followup.due_on)
        )  # fmt: skip
        place = lonlat_of(issue.location)
        position, accuracy = (None, None)
        if where == "on":
            position, accuracy = self.near(place, self.rng.uniform(8, 90)), 10.0
        elif where == "off":
            position, accuracy = self.near(place, self.rng.uniform(600, 1500)), 30.0
        inspector = inspector or followup.assignee or self.rng.choice(self.inspectors)
        with clock.frozen(self.at(days_ago, 10)):
            record_followup(followup, inspector, finding, *(position or (None, None)), accuracy,
                            self.rng.choice(NOTES[finding]), satisfaction)  # fmt: skip
            if photo:
                self.photo(followup, inspector, place)
        return followup

    def photo(self, followup, inspector, place) -> None:
        try:
            from fieldwatch.photos.samples import sample_image
            from fieldwatch.photos.services import attach_photo
        except ModuleNotFoundError:
            return
        colour = {"solved": (60, 140, 90), "partly": (190, 150, 40)}.get(
            followup.finding, (170, 70, 60)
        )
        picture = sample_image(size=(480, 320), colour=colour, label=f"lookback {followup.id}",
                               lonlat=place, taken_at=clock.local(clock.now()))  # fmt: skip
        attach_photo(followup, picture, inspector, f"{PREFIX}photo-{followup.id}")

    def schedule(self, issue, days_ago, due_in_days, assignee=None):
        with clock.frozen(self.at(days_ago, 14)):
            due = self.today + timedelta(days=due_in_days)
            return schedule_followup(self.supervisor, issue=issue, due_on=due, assignee=assignee)


def _crossing(s: _Story) -> None:
    """A busy crossing: three problems and five look-backs in two years."""
    crossing = s.spot()
    first = s.report(700, "十字路口井盖松动，车辆经过响声大", "roads", "transport", crossing)
    s.resolve(first, 680)
    s.look(first, 650, "unsolved", "on", "dissatisfied")
    s.resolve(first, 630, note="已更换井盖并加固井座。")
    s.look(first, 600, "solved", "on", "satisfied")
    second = s.report(400, "十字路口雨后积水", "drainage", "water", s.near(crossing, 25, 120))
    s.resolve(second, 380)
    s.look(second, 350, "solved", "on", "basically_satisfied")
    third = s.report(120, "十字路口护栏损坏，学生过街不安全", "safety", "transport",
                     s.near(crossing, 30, 300))  # fmt: skip
    s.resolve(third, 100)
    s.look(third, 70, "partly", "on", "basically_satisfied", photo=True)
    s.resolve(third, 50, note="护栏已全部恢复，增设警示标志。")
    s.look(third, 20, "solved", "on", "satisfied", photo=True)


def _backlog(s: _Story) -> int:
    """Do most look-backs the problems' demo left due, on plausible days (some late, a few not)."""
    rng = s.rng
    rows = db.session.execute(
        select(Followup, Issue.resolved_at)
        .join(Issue, Issue.id == Followup.issue_id)
        .where(
            Followup.done_at.is_(None),
            Followup.due_on < s.today,
            Issue.status == "resolved",
            Issue.client_id.not_like(f"{PREFIX}%"),
        )
        .order_by(Followup.due_on, Followup.id)
    ).all()
    plan = []
    for followup, resolved_at in rows:
        if rng.random() < 0.15:
            continue  # left overdue: the board has something to chase
        resolved_day = clock.local(resolved_at).date() if resolved_at else followup.due_on
        shift = rng.randint(1, 12) if rng.random() < 0.15 else -rng.randint(0, 10)
        day = min(followup.due_on + timedelta(days=shift), s.today - timedelta(days=1))
        day = max(day, resolved_day + timedelta(days=2))
        if day >= s.today:
            continue
        plan.append(((s.today - day).days, followup))
    done = 0
    for days_ago, followup in sorted(plan, key=lambda p: (-p[0], p[1].id)):
        finding = rng.choices(("solved", "partly", "unsolved", "regressed"), (78, 10, 8, 4))[0]
        where = rng.choices(("on", "off", "none"), (88, 6, 6))[0]
        satisfaction = rng.choices(
            ("satisfied", "basically_satisfied", "dissatisfied", None), (50, 30, 10, 10)
        )[0]
        s.look(followup.issue, days_ago, finding, where, satisfaction, followup=followup)
        done += 1
        if finding != "solved" and rng.random() < 0.7:
            _rework(s, followup.issue, days_ago)
    return done


def _rework(s: _Story, issue, found_days_ago: int) -> None:
    """The unit reworks a reopened problem; its next look-back is done if already due."""
    resolved = found_days_ago - s.rng.randint(5, 25)
    if resolved < 2:
        return
    s.resolve(issue, resolved, note="已按回头看意见返工整改。")
    followup = db.session.scalar(
        select(Followup).where(Followup.issue_id == issue.id, Followup.done_at.is_(None))
    )
    if followup is None:
        return
    done_ago = (s.today - followup.due_on).days + s.rng.randint(0, 6)
    if 1 <= done_ago < resolved:
        finding = "solved" if s.rng.random() < 0.85 else "partly"
        s.look(issue, done_ago, finding, "on", "basically_satisfied", followup=followup)


def load(seed: int = 2026) -> int:
    """Add the look-back stories to the demo county; return the number of problems added."""
    if db.session.scalar(select(Issue.id).where(Issue.client_id.like(f"{PREFIX}%")).limit(1)):
        return 0
    s = _Story(seed)
    if not s.offices or s.member is None or not s.units:
        return 0
    closed_titles = ("老旧小区地下室管道渗漏", "僵尸车长期占用小区车位", "健身步道被车辆占用",
                     "闲置地块垃圾堆放")  # fmt: skip
    categories = ("old_estates", "parking", "parking", "sanitation")
    for index, (title, category) in enumerate(zip(closed_titles, categories, strict=True)):
        issue = s.report(70 + index, title, category, s.units[index % len(s.units)])
        s.resolve(issue, 50 + index)
        s.look(issue, 25 - index, "solved", "on", ("satisfied", "basically_satisfied")[index % 2],
               photo=index < 2)  # fmt: skip
    far = s.report(60, "路灯不亮，夜间行人不便", "utilities", "water")
    s.resolve(far, 40)
    s.look(far, 12, "solved", "off", "basically_satisfied")  # 600–1500 m away: off site
    rework = s.report(80, "道路积水，雨天无法通行", "drainage", "water")
    s.resolve(rework, 55)
    s.look(rework, 20, "unsolved", "none", "dissatisfied")  # a phone call, no position
    again = s.report(100, "路面沉降开裂", "roads", "transport")
    s.resolve(again, 75)
    s.look(again, 45, "partly", "on", "basically_satisfied", photo=True)
    s.resolve(again, 30, note="已重新铺设沥青。")  # its rework look-back is due today
    regressed = s.report(150, "河道漂浮垃圾", "sanitation", "sanitation")
    s.resolve(regressed, 120)
    s.look(regressed, 95, "solved", "on", "satisfied")
    spot = s.schedule(regressed, 20, -10)
    s.look(regressed, 8, "regressed", "on", "dissatisfied", followup=spot, photo=True)
    for days, title, category in ((50, "人行道地砖破损", "roads"),
                                  (25, "垃圾清运不及时", "sanitation"),
                                  (20, "配电箱门锁损坏", "safety")):  # fmt: skip
        late = s.report(days + 20, title, category)
        s.resolve(late, days)  # its look-back is overdue now
    for days, title, category in ((28, "公交站牌缺失", "public_services"),
                                  (27, "排水沟盖板缺失", "drainage")):  # fmt: skip
        soon = s.report(days + 15, title, category)
        s.resolve(soon, days)  # due in two or three days
    planned = s.report(30, "小区充电桩不足", "utilities", "water")
    s.resolve(planned, 10, "B", planned_in=4)
    for days, title in ((6, "学校门口缺少人行天桥"), (15, "燃气管网未覆盖")):
        waiting = s.report(days + 30, title, "public_services", "transport")
        s.resolve(waiting, days, "C")
    explained = s.report(60, "企业噪声扰民", "pollution", "sanitation")
    s.resolve(explained, 40, "C")
    with clock.frozen(s.at(35, 10)):
        issues.transition(
            explained, "closed", s.supervisor, note="已督促企业调整作业时间并向居民说明。"
        )
    township = getattr(s.scoped_member, "township_id", None)
    checked = s.report(90, "农村生活垃圾收集点缺失", "sanitation", "sanitation",
                       s.spot(township))  # fmt: skip
    s.resolve(checked, 70)
    s.look(checked, 40, "solved", "on", "satisfied", inspector=s.scoped_member or s.member)
    s.schedule(checked, 3, 7, assignee=s.scoped_member)  # a spot check next week
    extra = s.report(20, "路名标识缺失", "public_services", "transport")
    s.resolve(extra, 5)
    s.schedule(extra, 2, 10, assignee=s.leader)  # an extra look-back before the scheduled one
    # the unit is late with this one: it shows on their to-do list
    s.report(40, "消防通道被占用", "safety", "transport", deadline_days=7)
    _crossing(s)
    _backlog(s)
    db.session.flush()
    return s.count
