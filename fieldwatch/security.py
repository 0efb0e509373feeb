"""Response headers: CSP with per-request nonce, no sniffing, no framing."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g


def tile_hosts() -> list[str]:
    """Return the origins of configured base-map tiles, allowed as image sources.

    The environment's base map (FIELDWATCH_BASEMAP: Tianditu, OSM, AMap or
    TILE_URL) always; the admin's `basemap` setting on the pages that drew a
    map with it (they resolved it into `g.basemap`).
    """
    from fieldwatch.map.basemap import from_config

    hosts = []
    url = current_app.config.get("TILE_URL") or ""
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url.replace("{s}", "a"))
        hosts.append(f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}")
    hosts.extend(from_config().hosts)
    chosen = getattr(g, "basemap", None)
    if chosen is not None:
        hosts.extend(chosen.hosts)
    hosts.extend(current_app.config.get("EXTRA_TILE_HOSTS", []))
    return list(dict.fromkeys(hosts))


def apply_headers(response, request):
    nonce = getattr(g, "csp_nonce", "")
    images = " ".join(["'self'", "data:", "blob:", *tile_hosts()])
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; "
        "font-src 'self' data:; connect-src 'self'; worker-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
