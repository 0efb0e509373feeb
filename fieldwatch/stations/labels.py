"""Display names of station kinds, tiers, the five haves and statuses."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "street_block": _l("街区协商"),
    "rural": _l("乡邻协商"),
    "member_studio": _l("委员工作室"),
    "members_home": _l("委员之家"),
    "liaison_group": _l("政协联络组"),
    "village_council": _l("村务协商议事会"),
    "township_platform": _l("镇街协商平台"),
    "county_platform": _l("县级协商平台"),
}
TIER_LABELS = {"county": _l("县级平台"), "township": _l("镇街分平台"), "village": _l("村社微平台")}
#: the five haves (五有): venue, signage, rules, activities, results
FIVE_HAVES_LABELS = {
    "venue": _l("有阵地"),
    "signage": _l("有标识"),
    "rules": _l("有制度"),
    "activities": _l("有活动"),
    "results": _l("有实效"),
}
STATUS_LABELS = {"open": _l("运行中"), "closed": _l("已关闭"), "planned": _l("筹建中")}
