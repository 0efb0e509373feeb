"""Display names of area levels and kinds (translated when shown)."""

from flask_babel import lazy_gettext as _l

LEVEL_LABELS = {"county": _l("区县"), "township": _l("乡镇(街道)"), "village": _l("村(社区)")}
KIND_LABELS = {
    "town": _l("镇"),
    "xiang": _l("乡"),
    "subdistrict": _l("街道"),
    "village": _l("行政村"),
    "community": _l("社区"),
}


def kind_label(kind: str | None) -> str:
    """Return the display name of an area kind ('—' when unknown)."""
    return str(KIND_LABELS[kind]) if kind in KIND_LABELS else "—"
