"""What each user chooses to receive (users.notify): per kind on/off and the channel."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from fieldwatch.auth.services import audit
from fieldwatch.errors_core import ValidationError

#: kind -> (label, who gets it); the order the account page shows them
KINDS = {
    "assigned": (_l("问题交办给本单位"), _l("承办单位的工作人员")),
    "reopened": (_l("问题回头看未解决，重新办理"), _l("辖区内的领导和督办；承办单位")),
    "lookback_due": (_l("回头看 3 天内到期"), _l("指定的检查人，或本乡镇的委员和督办")),
    "lookback_overdue": (_l("回头看已逾期"), _l("指定的检查人，或本乡镇的委员和督办")),
    "visit_invite": (_l("受邀参加走访"), _l("走访的参加委员")),
}
CHANNELS = {"email": _l("电子邮件"), "webhook": _l("工作群机器人")}


def webhook_configured() -> bool:
    return bool(current_app.config.get("WEBHOOK_URL"))


def email_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def default_channel(user) -> str:
    return "email" if getattr(user, "email", None) else "webhook"


def prefs_for(user) -> dict[str, dict]:
    """Return {kind: {"on": bool, "channel": str}} with defaults filled in (all on)."""
    saved = user.notify if isinstance(user.notify, dict) else {}
    out = {}
    for kind in KINDS:
        entry = saved.get(kind) if isinstance(saved.get(kind), dict) else {}
        channel = entry.get("channel")
        out[kind] = {
            "on": bool(entry.get("on", True)),
            "channel": channel if channel in CHANNELS else default_channel(user),
        }
    return out


def channel_for(user, kind: str) -> str | None:
    """Return the channel to reach `user` for `kind`, or None when they turned it off.

    E-mail without an address falls back to the group robot.
    """
    pref = prefs_for(user)[kind]
    if not pref["on"]:
        return None
    if pref["channel"] == "email" and not user.email:
        return "webhook"
    return pref["channel"]


def save_prefs(user, chosen: dict[str, dict], actor=None) -> dict:
    """Store the user's choices; unknown kinds or channels are refused (422)."""
    errors: dict[str, list[str]] = {}
    stored = {}
    for kind, entry in chosen.items():
        if kind not in KINDS:
            errors[kind] = ["未知的通知类型 (unknown kind)"]
            continue
        channel = entry.get("channel") or default_channel(user)
        if channel not in CHANNELS:
            errors[f"{kind}.channel"] = ["未知的渠道 (unknown channel)"]
            continue
        if entry.get("on") and channel == "email" and not user.email:
            errors[f"{kind}.channel"] = [
                "您还没有填写邮箱，请先填写或改用工作群 (add an e-mail address first)"
            ]
        stored[kind] = {"on": bool(entry.get("on")), "channel": channel}
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    user.notify = {**prefs_for(user), **stored}
    audit("user.notify_prefs", actor or user, "user", user.id, {"prefs": user.notify})
    return user.notify
