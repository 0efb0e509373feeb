"""Browser fixtures: Debian's Chromium driven by Playwright, no request leaving the app."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36",
}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright gives each launch a fresh temporary profile (user-data dir)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Outside(list):
    """Requests that tried to leave the app (blocked)."""


def _guard(context, base_url: str) -> Outside:
    outside = Outside()

    def route(route):
        url = route.request.url
        if url.startswith(base_url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", route)
    return outside


@pytest.fixture
def make_page(browser, request):
    """Open a page on a live server: make_page(server, phone=False, locale='zh-CN', **context options)."""
    contexts = []

    def make(server, phone: bool = False, locale: str = "zh-CN", **options):
        settings = dict(PHONE) if phone else {"viewport": {"width": 1280, "height": 900}}
        settings.update(options)
        context = browser.new_context(
            base_url=server.url,
            locale=locale,
            extra_http_headers={"Accept-Language": f"{locale},zh;q=0.9,en;q=0.8"}
            if locale.startswith("zh")
            else None,
            **settings,
        )
        context.set_default_timeout(15_000)
        outside = _guard(context, server.url)
        page = context.new_page()
        page.outside = outside
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


def _sign_in(page, login: str, password: str = "demo-pass-2026") -> None:
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def sign_in():
    """Sign a page in through the login form: sign_in(page, login, password=demo)."""
    return _sign_in
