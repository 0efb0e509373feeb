"""On-site consultation visits, their stops, and look-backs (回头看)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwatch.extensions import db
from fieldwatch.models.base import point, tz_datetime, utcnow

VISIT_FORMS = ("on_site", "meeting", "online", "written", "inspection")
VISIT_STATUSES = ("planned", "held", "cancelled")
FINDINGS = ("solved", "partly", "unsolved", "regressed")
SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")
FOLLOWUP_KINDS = ("scheduled", "rework", "spot_check", "extra", "visit")


class Visit(db.Model):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the topic (定题)
    title: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default="planned")
    planned_for = mapped_column(Date, nullable=False)
    held_on = mapped_column(Date, nullable=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    start_location = mapped_column(point(), nullable=True)
    start_label: Mapped[str | None] = mapped_column(String(200))
    #: {"members": [user ids], "units": [unit codes], "residents": n}
    participants = mapped_column(JSONB, default=dict)
    #: {"members": n, "officials": n, "residents": n}
    attendance = mapped_column(JSONB, nullable=True)
    #: consultation opinions (协商意见)
    opinions: Mapped[str | None] = mapped_column(Text)
    #: agreed actions as applied: [{issue_id, to, unit, due_on, note}]
    actions = mapped_column(JSONB, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(tz_datetime(), default=utcnow)
    updated_at = mapped_column(tz_datetime(), default=utcnow, onupdate=utcnow)

    leader = relationship("User", foreign_keys=[leader_id])
    station = relationship("Station")
    stops: Mapped[list[VisitStop]] = relationship(
        back_populates="visit", order_by="VisitStop.position", cascade="all, delete-orphan"
    )


class VisitStop(db.Model):
    __tablename__ = "visit_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: null for a free point
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    location = mapped_column(point(), nullable=False)
    label: Mapped[str | None] = mapped_column(String(200))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    #: indexed for one township's coverage ("visited")
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)

    visit: Mapped[Visit] = relationship(back_populates="stops")
    issue = relationship("Issue")


class Followup(db.Model):
    """A look-back (回头看): going back to the place to see whether it is really fixed."""

    __tablename__ = "followups"
    __table_args__ = (CheckConstraint("num_nonnulls(issue_id, visit_id) >= 1", name="has_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    #: scheduled | rework | spot_check | extra | visit
    kind: Mapped[str] = mapped_column(String(12), default="scheduled")
    due_on = mapped_column(Date, nullable=False, index=True)
    done_at = mapped_column(tz_datetime(), nullable=True)
    #: the inspector assigned (optional)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: who recorded it
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    location = mapped_column(point(), nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    #: inspector's distance to the issue (a visit's: to its nearest stop)
    distance_m: Mapped[float | None] = mapped_column(Float)
    on_site: Mapped[bool | None] = mapped_column(Boolean)
    #: solved | partly | unsolved | regressed
    finding: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(tz_datetime(), default=utcnow)

    issue = relationship("Issue")
    visit = relationship("Visit")
    assignee = relationship("User", foreign_keys=[assignee_id])
    inspector = relationship("User", foreign_keys=[inspector_id])
    photos = relationship("Photo", foreign_keys="Photo.followup_id", order_by="Photo.id")
