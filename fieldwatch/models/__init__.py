"""The data model (DESIGN.md "Data model"); one module per part."""

from fieldwatch.models.issues import Issue, IssueEvent, IssueTally, Photo
from fieldwatch.models.lists import Category, Setting, Unit
from fieldwatch.models.ops import AuditLog, LoginThrottle, OutboxMessage
from fieldwatch.models.places import Area, AreaPart, Station, station_members, station_serves
from fieldwatch.models.users import ApiToken, User
from fieldwatch.models.visits import Followup, Visit, VisitStop

__all__ = [
    "ApiToken",
    "Area",
    "AreaPart",
    "AuditLog",
    "Category",
    "Followup",
    "Issue",
    "IssueEvent",
    "IssueTally",
    "LoginThrottle",
    "OutboxMessage",
    "Photo",
    "Setting",
    "Station",
    "Unit",
    "User",
    "Visit",
    "VisitStop",
    "station_members",
    "station_serves",
]
