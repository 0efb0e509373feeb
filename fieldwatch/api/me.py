"""`GET /api/v1/me`: who the request is signed in as (session or token)."""

from __future__ import annotations

from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields

blp = Blueprint("me_api", __name__, url_prefix="/me", description="The signed-in user")


class MeSchema(Schema):
    login = fields.String()
    name = fields.String()
    role = fields.String()
    township_code = fields.String(allow_none=True)
    unit_code = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)


@blp.route("")
@blp.response(200, MeSchema)
@login_required
def me():
    """Return the signed-in user."""
    user = current_user
    return {
        "login": user.login,
        "name": user.name,
        "role": user.role,
        "township_code": user.township.code if user.township else None,
        "unit_code": user.unit.code if user.unit else None,
        "locale": user.locale,
    }
