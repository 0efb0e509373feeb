"""Problems (issues), their timeline events and photos."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwatch.extensions import db
from fieldwatch.models.base import point, tz_datetime, utcnow

STATUSES = ("reported", "accepted", "in_progress", "resolved", "closed", "rejected", "duplicate")
ENDED = ("closed", "rejected", "duplicate")
SOURCES = ("field", "visit", "open311", "hotline", "import")
LOCATION_SOURCES = ("gps", "exif", "manual")
PRIORITIES = ("normal", "urgent")
ANSWER_CLASSES = ("A", "B", "C")


class Issue(db.Model):
    __tablename__ = "issues"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        Index("ix_issues_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: FW-<year>-<6 digits>
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    location = mapped_column(point(), nullable=False)
    #: radius of the phone's fix, metres
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    #: gps | exif | manual
    location_source: Mapped[str] = mapped_column(String(10), default="manual")
    address: Mapped[str | None] = mapped_column(String(300))
    #: village, derived at write time
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: contact of a resident reporter (Open311, hotline): personal data
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    #: field | visit | open311 | hotline | import
    source: Mapped[str] = mapped_column(String(10), default="field")
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the phone's time when the report was made
    observed_at = mapped_column(tz_datetime(), nullable=True)
    created_at = mapped_column(tz_datetime(), default=utcnow, index=True)
    updated_at = mapped_column(tz_datetime(), default=utcnow, onupdate=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="reported")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    due_on = mapped_column(Date, nullable=True)
    #: A solved/adopted, B being solved or planned, C cannot be solved now
    answer_class: Mapped[str | None] = mapped_column(String(1))
    accepted_at = mapped_column(tz_datetime(), nullable=True)
    resolved_at = mapped_column(tz_datetime(), nullable=True)
    closed_at = mapped_column(tz_datetime(), nullable=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"))
    #: times a look-back reopened it
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    category = relationship("Category")
    area = relationship("Area", foreign_keys=[area_id])
    township = relationship("Area", foreign_keys=[township_id])
    reporter = relationship("User", foreign_keys=[reporter_id])
    unit = relationship("Unit")
    events: Mapped[list[IssueEvent]] = relationship(
        back_populates="issue", order_by="IssueEvent.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="issue", order_by="Photo.id", foreign_keys="Photo.issue_id"
    )

    @property
    def is_open(self) -> bool:
        return self.status not in ENDED


class IssueEvent(db.Model):
    """A status move or a comment in an issue's timeline."""

    __tablename__ = "issue_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: status | comment
    kind: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    #: what the move carried (unit, due_on, answer class, visit, followup ...)
    data = mapped_column(JSONB, default=dict)
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at = mapped_column(tz_datetime(), default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="events")
    actor = relationship("User")


class Photo(db.Model):
    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("num_nonnulls(issue_id, visit_id, followup_id) = 1", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id"), index=True)
    #: content hash; the file is uploads/<sha256[:2]>/<sha256>.<ext>
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    ext: Mapped[str] = mapped_column(String(5))
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at = mapped_column(tz_datetime(), nullable=True)
    exif_location = mapped_column(point(), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(tz_datetime(), default=utcnow)

    issue = relationship("Issue", back_populates="photos", foreign_keys=[issue_id])


class IssueTally(db.Model):
    """Open problems counted per village (per township where none), for low-zoom maps.

    Kept by the database (trigger `issues_tally`, migration 0004) on every insert,
    delete and update of an issue's status, place, due date or reopen count, in the
    writer's transaction, however the row is written. The main map's township counts
    and low-zoom clusters and tiles sum these 30,000 rows instead of counting the
    ~200,000 open problems of a province (0.5-3 s).
    """

    __tablename__ = "issue_tallies"

    #: 0 where the problem has no township / village
    township_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: open problems (not closed, rejected or duplicate), and of them by status
    n: Mapped[int] = mapped_column(Integer)
    reported: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    in_progress: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    #: open ones a look-back has reopened
    reopened: Mapped[int] = mapped_column(Integer)
    #: sums of the open problems' longitudes and latitudes: their centre is (sx/n, sy/n)
    sx: Mapped[float] = mapped_column(Float)
    sy: Mapped[float] = mapped_column(Float)
    #: due dates of the ones in progress, sorted: overdue = width_bucket(today - 1, due)
    due = mapped_column(ARRAY(Date), nullable=False)
