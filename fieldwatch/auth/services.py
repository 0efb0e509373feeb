"""Users, passwords, API tokens and login throttling (shared by all workers via the database)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from fieldwatch import clock
from fieldwatch.errors_core import NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import ApiToken, Area, AuditLog, LoginThrottle, Unit, User
from fieldwatch.models.users import ROLES

#: failures within the window that lock a key, and for how long
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
#: a modern memory-hard KDF (werkzeug's scrypt)
PASSWORD_METHOD = "scrypt"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def audit(action: str, actor=None, obj_type=None, obj_id=None, data=None, ip=None) -> None:
    """Add an audit-log row (flushed with the caller's transaction)."""
    db.session.add(
        AuditLog(
            actor_id=getattr(actor, "id", actor),
            action=action,
            object_type=obj_type,
            object_id=None if obj_id is None else str(obj_id),
            data=data or {},
            ip=ip,
        )
    )


def create_user(
    login: str,
    role: str,
    name: str | None = None,
    password: str | None = None,
    township_code: str | None = None,
    unit_code: str | None = None,
    sector: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    actor=None,
) -> User:
    """Create a user, checking role and scope."""
    errors: dict[str, list[str]] = {}
    login = (login or "").strip()
    if not login or len(login) > 60 or any(c.isspace() for c in login):
        errors["login"] = ["登录名不能为空，且不含空格 (login required, no spaces)"]
    elif db.session.scalar(select(User.id).where(User.login == login)):
        errors["login"] = ["登录名已存在 (login taken)"]
    township, unit = _role_and_scope(role, township_code, unit_code, errors)
    _contact(email, errors)
    if password is not None and len(password) < 8:
        errors["password"] = ["密码至少 8 位 (at least 8 characters)"]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    user = User(
        login=login,
        name=name or login,
        role=role,
        township_id=township.id if township else None,
        unit_id=unit.id if unit else None,
        sector=sector,
        phone=phone,
        email=email,
        password_hash=hash_password(password) if password else None,
        notify={},
    )
    db.session.add(user)
    db.session.flush()
    audit("user.create", actor, "user", user.id, {"login": login, "role": role})
    return user


def _role_and_scope(role, township_code, unit_code, errors: dict) -> tuple:
    """Check a role and its scope; return (township Area or None, Unit or None)."""
    if role not in ROLES:
        errors["role"] = [f"未知角色 {role!r}; 可选: {', '.join(ROLES)} (unknown role)"]
    township = unit = None
    if township_code:
        township = db.session.scalar(
            select(Area).where(Area.code == township_code, Area.level == "township")
        )
        if township is None:
            errors["township"] = [f"没有编码为 {township_code} 的乡镇 (unknown township)"]
    if unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            errors["unit"] = [f"没有编码为 {unit_code} 的承办单位 (unknown unit)"]
    if role == "unit" and not unit_code:
        errors["unit"] = ["承办单位用户必须指定单位 (a unit user needs --unit)"]
    return township, unit


def _contact(email: str | None, errors: dict) -> None:
    if email and (len(email) > 200 or not EMAIL.match(email)):
        errors["email"] = ["邮箱格式不对 (not an e-mail address)"]


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.active, User.id != user.id)
    )


def update_user(
    user: User,
    *,
    name: str,
    role: str,
    township_code: str | None = None,
    unit_code: str | None = None,
    sector: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    actor=None,
) -> dict:
    """Change a user's name, role, scope and contact; audit what changed; return the changes.

    A role change is audited on its own as `user.role_change` (from, to). The
    last active admin cannot stop being one (someone must be able to manage users).
    """
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["请填写姓名，最多 100 字 (name required, at most 100 characters)"]
    township, unit = _role_and_scope(role, township_code, unit_code, errors)
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    _contact(email, errors)
    if phone and len(phone) > 40:
        errors["phone"] = ["电话最多 40 位 (at most 40 characters)"]
    if user.role == "admin" and role != "admin" and user.active and not _other_active_admins(user):
        errors["role"] = ["这是唯一的管理员，不能改成其他角色 (the last admin must stay admin)"]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    wanted = {
        "name": name,
        "role": role,
        "township_id": township.id if township else None,
        "unit_id": unit.id if unit and role == "unit" else None,
        "sector": (sector or "").strip() or None,
        "phone": phone,
        "email": email,
    }
    changes = {
        key: [getattr(user, key), value]
        for key, value in wanted.items()
        if getattr(user, key) != value
    }
    if "role" in changes:
        audit("user.role_change", actor, "user", user.id, {"from": user.role, "to": role})
    for key, (_, value) in changes.items():
        setattr(user, key, value)
    rest = {k: v for k, v in changes.items() if k != "role"}
    if rest:
        audit("user.update", actor, "user", user.id, {"changed": sorted(rest)})
    db.session.flush()
    return changes


def set_active(user: User, active: bool, actor=None) -> None:
    """Enable or disable a user; disabling ends their sessions and revokes their tokens."""
    if active == bool(user.active):
        return
    if not active:
        if actor is not None and getattr(actor, "id", None) == user.id:
            raise ValidationError(
                "不能停用自己的账号 (you cannot disable yourself)",
                {"active": ["不能停用自己的账号"]},
            )
        if user.role == "admin" and not _other_active_admins(user):
            raise ValidationError(
                "不能停用唯一的管理员 (the last admin cannot be disabled)",
                {"active": ["不能停用唯一的管理员"]},
            )
        user.session_version = (user.session_version or 0) + 1
        for token in user.tokens:
            if token.revoked_at is None:
                token.revoked_at = clock.now()
    user.active = active
    audit("user.enable" if active else "user.disable", actor, "user", user.id)
    db.session.flush()


def reset_password(user: User, password: str | None = None, actor=None) -> str:
    """Set the typed password, or a generated one; return it (shown once). Ends their sessions."""
    password = password or generate_password()
    set_password(user, password, actor)
    return password


def generate_password() -> str:
    """A password that is easy to read out over the phone: 3 groups of 4, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def get_user(login: str) -> User:
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFound(f"没有用户 {login} (no such user)")
    return user


def set_password(user: User, password: str, actor=None) -> None:
    if len(password) < 8:
        raise ValidationError(
            "密码至少 8 位", {"password": ["密码至少 8 位 (at least 8 characters)"]}
        )
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 0) + 1
    audit("user.password", actor, "user", user.id)


def logout_everywhere(user: User) -> None:
    """End every session of the user and revoke the API tokens."""
    user.session_version = (user.session_version or 0) + 1
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = clock.now()
    audit("user.logout_everywhere", user, "user", user.id)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str | None = None) -> str:
    """Create an API token; only its hash is kept, so return it now."""
    token = "fw_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), name=name))
    audit("token.create", user, "user", user.id)
    return token


def revoke_token(token_id: int, user: User) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("没有这个令牌 (no such token)")
    token.revoked_at = clock.now()
    audit("token.revoke", user, "user", user.id, {"token_id": token.id, "name": token.name})


def user_for_token(token: str) -> User | None:
    """Return the active user holding this unrevoked token, in one statement (every API call)."""
    return db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.active,
        )
    )


def _throttle_row(key: str) -> LoginThrottle:
    row = db.session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_start=clock.now())
        db.session.add(row)
        db.session.flush()
    return row


def locked_until(keys: list[str]):
    """Return when the first locked key unlocks, or None."""
    now = clock.now()
    for key in keys:
        row = db.session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return row.locked_until
    return None


def authenticate(login: str, password: str, ip: str | None = None) -> User | None:
    """Check a login; count failures per login and per IP; lock after too many."""
    keys = [f"login:{login.lower()}", f"ip:{ip}"]
    if locked_until(keys):
        return None
    user = db.session.scalar(select(User).where(User.login == login))
    ok = (
        user is not None
        and user.active
        and user.password_hash
        and check_password_hash(user.password_hash, password)
    )
    now = clock.now()
    if ok:
        row = db.session.get(LoginThrottle, keys[0])
        if row is not None:
            db.session.delete(row)
        audit("login", user, "user", user.id, ip=ip)
        return user
    for key in keys:
        row = _throttle_row(key)
        if now - row.window_start > WINDOW:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + LOCKOUT
    audit("login_failed", user, "user", getattr(user, "id", None), {"login": login}, ip=ip)
    return None
