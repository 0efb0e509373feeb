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


class SecureCookies:
    """WSGI middleware: every cookie sent over HTTPS is marked Secure.

    Flask's SESSION_COOKIE_SECURE is all or nothing (FIELDWATCH_SECURE_COOKIES);
    this covers a site reached over HTTPS, whether `fieldwatch serve` terminates
    TLS itself or a trusted proxy says so (X-Forwarded-Proto), including the
    remember-me cookie that Flask-Login sets after our response hooks ran.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start(status, headers, exc_info=None):
            headers = [
                (name, f"{value}; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def wrap_wsgi(app) -> None:
    """Secure cookies over HTTPS; behind a proxy (FIELDWATCH_BEHIND_PROXY), trust its headers.

    Behind nginx every request comes from 127.0.0.1: without ProxyFix the per-IP
    login throttle would lock everyone out after a few failures anywhere.
    """
    app.wsgi_app = SecureCookies(app.wsgi_app)
    if app.config.get("BEHIND_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
