"""Demo problems (about 300) across categories, townships and statuses, over ~10 months.

Every problem is made through `report_issue` and moved through `transition` with the
clock set to each step's moment, so timelines, due dates, overdue items, look-backs
scheduled by the lifecycle's signals and the audit log all read as if it happened.
Titles come from the seed articles. Idempotent: a database holding demo problems
(client_id `demo-…`) is left alone.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from shapely.geometry import Point
from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.issues import services
from fieldwatch.models import Area, Issue, Unit, User

COUNT = 300
DAYS = 300

#: category -> (titles, plausible units); "office" is the township's own office
SEEDS = {
    "old_estates": (
        ["老旧小区地下室水管漏水", "小区化粪池满溢", "楼道照明损坏多年", "老小区外墙脱落"],
        ["housing", "office"],
    ),
    "drainage": (
        ["下水道堵塞，污水外溢", "雨后道路积水严重", "排水沟淤塞", "低洼路段逢雨必淹"],
        ["water", "office"],
    ),
    "parking": (
        ["僵尸车长期占用车位", "人行道违停严重", "小区周边停车难", "健身步道上停满汽车"],
        ["traffic_police", "sanitation", "office"],
    ),
    "public_services": (
        ["学生上学缺少人行天桥", "电动汽车充电桩不足", "社区缺少老年活动场所", "公交站台无遮雨棚"],
        ["education", "transport", "civil_affairs", "office"],
    ),
    "sanitation": (
        ["闲置地块堆满生活垃圾", "农村垃圾收运不及时", "河边建筑垃圾乱倒", "垃圾桶破损无人更换"],
        ["sanitation", "agriculture", "office"],
    ),
    "safety": (
        ["井盖松动，行人易绊倒", "道路护栏损坏", "路边电线杆倾斜", "桥梁栏杆锈蚀断裂"],
        ["housing", "transport", "power", "office"],
    ),
    "roads": (
        ["路面塌陷形成深坑", "路口拥堵，缺少信号灯", "路名牌缺失", "交通标志被树木遮挡"],
        ["transport", "traffic_police", "natural_resources", "office"],
    ),
    "utilities": (
        ["新建小区迟迟未通天然气", "片区经常停水", "路灯不亮", "供电线路老化"],
        ["gas", "water", "power"],
    ),
    "pollution": (
        ["工厂夜间噪声扰民", "企业排放刺鼻废气", "河道发黑发臭", "餐馆油烟直排"],
        ["ecology", "office"],
    ),
    "greening": (
        ["行道树倒伏压住人行道", "绿化带被毁改成菜地", "公园树木枯死未补种"],
        ["natural_resources", "office"],
    ),
}
DETAILS = (
    "附近居民反映已有一段时间，影响日常出行。",
    "早晚高峰尤其明显，多名群众向委员反映。",
    "雨天情况更严重，存在安全隐患。",
    "涉及约{n}户居民，希望尽快解决。",
    "此前向社区反映过，尚未得到处理。",
    "",
)
REJECT_REASONS = (
    "经核实属于私人物业管理范围，已告知业主委员会处理。",
    "反映情况与现场不符，经社区核实无此问题。",
    "已纳入县级重点项目统一实施，不单独立项。",
)
ANSWERS = {
    "A": (
        "已完成整改，现场恢复正常。",
        "已安排施工队处理完毕，群众满意。",
        "问题已解决，设施已修复。",
    ),
    "B": ("已列入年度计划，预计在计划日期前完成。", "方案已批复，正在招标施工。"),
    "C": (
        "受用地条件限制，目前无法实施，已向群众说明。",
        "涉及跨区域协调，暂不能解决，已做好解释。",
    ),
}
PROGRESS = ("已派人到现场查看。", "正在协调施工单位。", "已与社区对接，制定整改方案。")


def _at_day(day, rng: random.Random) -> datetime:
    """A working-hours instant on `day`, local time."""
    moment = time(rng.randint(8, 17), rng.randint(0, 59))
    return datetime.combine(day, moment, tzinfo=clock.zone()).astimezone(UTC)


def _point_in(village: Area, township: Area, rng: random.Random) -> tuple[float, float]:
    from geoalchemy2.shape import to_shape

    if village.boundary is not None:
        shape = to_shape(village.boundary)
        x0, y0, x1, y1 = shape.bounds
        for _ in range(50):
            p = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if shape.contains(p):
                return round(p.x, 6), round(p.y, 6)
    lon, lat = lonlat_of(village.location) or lonlat_of(township.location)
    outline = to_shape(township.boundary) if township.boundary is not None else None
    for _ in range(20):
        p = Point(lon + rng.uniform(-0.004, 0.004), lat + rng.uniform(-0.003, 0.003))
        if outline is None or outline.contains(p):
            return round(p.x, 6), round(p.y, 6)
    return round(lon, 6), round(lat, 6)


class _Loader:
    def __init__(self, seed: int):
        self.rng = random.Random(seed * 7 + 4)
        self.seed = seed
        self.now = clock.now()
        self.today = clock.today()
        users = db.session.scalars(select(User).where(User.active).order_by(User.id)).all()
        self.reporters = [u for u in users if u.role in ("member", "leader", "supervisor")]
        # unscoped staff, so that every township is theirs
        self.staff = [
            u
            for u in users
            if u.role in ("admin", "leader", "supervisor") and u.township_id is None
        ]
        self.supervisors = [u for u in self.staff if u.role == "supervisor"] or self.staff
        self.unit_staff = {u.unit.code: u for u in users if u.role == "unit" and u.unit is not None}
        self.units = {u.code for u in db.session.scalars(select(Unit).where(Unit.active))}
        self.townships = {
            t.id: t for t in db.session.scalars(select(Area).where(Area.level == "township"))
        }
        self.villages = db.session.scalars(
            select(Area).where(Area.level == "village").order_by(Area.code)
        ).all()
        self.made: list[Issue] = []

    def at(self, start: datetime, min_days: float, max_days: float) -> datetime | None:
        """A moment some days after `start`, in working hours; None if it is not past yet."""
        day = clock.local(start).date() + timedelta(
            days=self.rng.randint(int(min_days), int(max_days))
        )
        moment = max(_at_day(day, self.rng), start + timedelta(minutes=30))
        return moment if moment < self.now - timedelta(hours=1) else None

    def unit_for(self, category: str, township: Area) -> str:
        options = SEEDS[category][1]
        choice = self.rng.choice(options)
        if choice == "office" or choice not in self.units:
            office = f"office_{township.code}"
            return office if office in self.units else "housing"
        return choice

    def moments(self, count: int) -> list[datetime]:
        """When the problems were reported, oldest first; recent weeks are busier."""
        out = []
        for _ in range(count):
            age = int(DAYS * (1 - self.rng.random() ** 0.8))
            created = _at_day(self.today - timedelta(days=max(age, 0)), self.rng)
            if created > self.now - timedelta(hours=2):
                created = self.now - timedelta(hours=self.rng.randint(2, 48))
            out.append(created)
        return sorted(out)

    def report(self, index: int, created: datetime) -> Issue:
        rng = self.rng
        category = rng.choice(list(SEEDS))
        village = rng.choice(self.villages)
        township = self.townships[village.parent_id]
        lon, lat = _point_in(village, township, rng)
        gps = rng.random() < 0.8
        detail = rng.choice(DETAILS).format(n=rng.randint(20, 300))
        with clock.frozen(created):
            issue, _ = services.report_issue(
                rng.choice(self.reporters),
                title=rng.choice(SEEDS[category][0]),
                category=category,
                lon=lon,
                lat=lat,
                accuracy_m=round(rng.uniform(3, 35), 1) if gps else None,
                location_source="gps" if gps else rng.choice(("manual", "exif")),
                observed_at=created - timedelta(minutes=rng.randint(1, 40)),
                description=f"{village.name}：{detail}".rstrip("："),
                priority="urgent" if rng.random() < 0.06 else "normal",
                client_id=f"demo-{self.seed}-{index:04d}",
            )
        return issue

    def move(self, issue: Issue, when: datetime, to: str, actor, **values) -> None:
        with clock.frozen(when):
            services.transition(issue, to, actor, **values)

    def progress(self, issue: Issue, created: datetime) -> None:
        """Carry the issue as far along its life as its age and luck allow."""
        rng = self.rng
        fate = rng.random()
        accepted = self.at(created, 1, 6)
        if accepted is None:
            return
        if fate < 0.07:
            self.move(
                issue,
                accepted,
                "rejected",
                rng.choice(self.staff),
                reason=rng.choice(REJECT_REASONS),
            )
            return
        if fate < 0.12 and self.made:
            original = self._earlier_same_kind(issue)
            if original is not None:
                self.move(
                    issue,
                    accepted,
                    "duplicate",
                    rng.choice(self.supervisors),
                    duplicate_of=original.id,
                )
                return
        if rng.random() < 0.08:
            return  # still waiting to be accepted
        self.move(issue, accepted, "accepted", rng.choice(self.staff))
        assigned = self.at(accepted, 0, 4)
        if assigned is None or rng.random() < 0.06:
            return
        township = self.townships.get(issue.township_id)
        unit = self.unit_for(issue.category.code, township) if township else "housing"
        self.move(issue, assigned, "in_progress", rng.choice(self.staff), unit=unit)
        worker = self.unit_staff.get(unit)
        if worker is not None and rng.random() < 0.5:
            noted = self.at(assigned, 1, 6)
            if noted is not None:
                with clock.frozen(noted):
                    services.add_comment(issue, worker, rng.choice(PROGRESS))
        if rng.random() < 0.08:
            later = self.at(assigned, 2, 8)
            other = self.unit_for(issue.category.code, township) if township else "housing"
            if later is not None and other != unit:
                self.move(issue, later, "in_progress", rng.choice(self.staff), unit=other,
                          note="职责调整，转交办理")  # fmt: skip
                assigned, worker = later, self.unit_staff.get(other)
        # most are answered within the deadline, some late, some not yet (overdue)
        deadline = issue.category.deadline_days
        late = rng.random() < 0.25
        resolved = self.at(assigned, 2, deadline * (1.6 if late else 0.9))
        if resolved is None or rng.random() < 0.18:
            return
        answer = rng.choices("ABC", weights=(70, 20, 10))[0]
        extra = {}
        if answer == "B":
            extra["due_on"] = (
                clock.local(resolved).date() + timedelta(days=rng.randint(20, 90))
            ).isoformat()
        self.move(issue, resolved, "resolved", worker or rng.choice(self.staff),
                  answer_class=answer, note=rng.choice(ANSWERS[answer]), **extra)  # fmt: skip
        if answer == "C" and rng.random() < 0.6:
            closed = self.at(resolved, 3, 20)
            if closed is not None:
                self.move(issue, closed, "closed", rng.choice(self.supervisors),
                          note="已向群众解释说明，督办同意销号。")  # fmt: skip

    def _earlier_same_kind(self, issue: Issue) -> Issue | None:
        same = [i for i in self.made[-60:] if i.category_id == issue.category_id and i.is_open]
        if not same:
            return None
        original = self.rng.choice(same)
        # a duplicate is reported close to the original
        lon, lat = lonlat_of(original.location)
        from fieldwatch.geo import point_element

        issue.location = point_element(
            lon + self.rng.uniform(-3e-4, 3e-4), lat + self.rng.uniform(-3e-4, 3e-4)
        )
        issue.area_id, issue.township_id = original.area_id, original.township_id
        return original

    def photos(self) -> int:
        from fieldwatch.photos.samples import sample_image
        from fieldwatch.photos.services import attach_photo

        palette = ((96, 110, 120), (120, 100, 70), (70, 110, 80), (90, 90, 130))
        chosen = self.rng.sample(self.made, min(40, len(self.made)))
        for n, issue in enumerate(chosen):
            lon, lat = lonlat_of(issue.location)
            raw = sample_image(
                size=(160, 120),
                colour=palette[n % len(palette)],
                label=issue.ref[-6:],
                lonlat=(lon, lat),
                taken_at=clock.local(issue.created_at).replace(tzinfo=None),
            )
            with clock.frozen(issue.created_at + timedelta(seconds=5)):
                attach_photo(
                    issue, raw, issue.reporter, client_id=f"demo-photo-{self.seed}-{n:03d}"
                )
        return len(chosen)


def load(seed: int = 2026) -> dict[str, int]:
    """Add the demo problems unless they are there; return counts."""
    existing = db.session.scalar(select(func.count(Issue.id)).where(Issue.client_id.like("demo-%")))
    if existing:
        return {"issues": 0, "photos": 0}
    loader = _Loader(seed)
    if not loader.villages or not loader.reporters or not loader.staff:
        return {"issues": 0, "photos": 0}
    plans = [loader.report(i, at) for i, at in enumerate(loader.moments(COUNT))]
    for issue in plans:  # in the order they were reported, so "earlier" means earlier
        loader.progress(issue, issue.created_at)
        loader.made.append(issue)
    photos = loader.photos()
    db.session.flush()
    return {"issues": len(plans), "photos": photos}
