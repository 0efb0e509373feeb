"""Serve folium's scripts and stylesheets from ``static/`` instead of public CDNs.

folium hard-codes CDN URLs in the ``default_js``/``default_css`` lists of its
classes. :func:`localize` rewrites them, per instance, to the copies kept in
``static/vendor`` (see ``static/vendor/VERSIONS.md``), and refuses any remote URL
it has no copy for, so a new plugin cannot quietly make the page reach the
internet. The URLs below are those of folium 0.17-0.20 (unchanged across them).
"""

import json
from collections.abc import Iterator
from pathlib import Path

from branca.element import Element, Link

#: folium CDN URL -> path under ``static/``, kept with the copies in
#: ``static/vendor/cdn_map.json``. Where folium pins an older release (leaflet
#: 1.9.3, bootstrap 5.2.2, ...) the local copy is a newer compatible one.
CDN_TO_LOCAL: dict[str, str] = json.loads(
    (Path(__file__).resolve().parents[2] / "static" / "vendor" / "cdn_map.json").read_text()
)

_REMOTE_PREFIXES = ("http://", "https://", "//")


def localize(element: Element, static_url: str = "/static/") -> None:
    """Point the CDN assets of ``element`` and all its descendants at ``static_url``."""
    base = static_url.rstrip("/") + "/"
    for el in _walk(element):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                # Assigning on the instance leaves the class-level lists untouched.
                setattr(el, attr, [(name, _local_url(url, base)) for name, url in links])
        if isinstance(el, Link):
            el.url = _local_url(el.url, base)


def _local_url(url: str, base: str) -> str:
    """Return the local URL for ``url``, or raise if it is remote and has no copy."""
    if url in CDN_TO_LOCAL:
        return base + CDN_TO_LOCAL[url]
    if url.lower().startswith(_REMOTE_PREFIXES):
        raise ValueError(f"no local copy of {url}")
    return url


def _walk(element: Element) -> Iterator[Element]:
    """Yield ``element`` and every element below it, each once."""
    seen: set[int] = set()
    stack = [element]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        stack.extend(el._children.values())
        # Figure, Div and Popup keep header/html/script outside _children.
        for attr in ("header", "html", "script"):
            part = getattr(el, attr, None)
            if isinstance(part, Element):
                stack.append(part)
