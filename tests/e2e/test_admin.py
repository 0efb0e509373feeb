"""The admin, in Debian Chromium, creates a user and a category; both are then used.

The new user signs in with the password the admin set, and finds the new
category in the problem report form (/issues/new; where that page is not
installed, in the category API — the strongest place that exists).
"""

from __future__ import annotations


def test_admin_creates_a_user_and_a_category_and_both_are_used(live_server, make_page, sign_in):
    admin = make_page(live_server)
    sign_in(admin, "admin")
    admin.click("nav >> text=管理")
    admin.wait_for_url("**/admin/")
    assert "用户" in admin.inner_text("main")

    # a category
    admin.click("main >> text=问题类别")
    admin.click("text=新建类别")
    admin.fill("#code", "street_lights")
    admin.fill("#name", "路灯照明")
    admin.fill("#name_en", "Street lights")
    admin.fill("#deadline_days", "10")
    admin.fill("#lookback_days", "20")
    admin.fill("#duplicate_radius_m", "120")
    admin.click("#category-form button[type=submit]")
    admin.wait_for_url("**/admin/categories")
    row = admin.locator("#categories-table tr", has_text="路灯照明")
    assert "10 天" in row.inner_text() and "20 天" in row.inner_text()

    # a user, first with a mistake: a unit user without a unit
    admin.goto("/admin/users/new")
    admin.fill("#login", "zhoumin")
    admin.fill("#name", "周敏")
    admin.select_option("#role", "unit")
    assert admin.is_visible("#unit")  # shown for the unit role only
    admin.click("#user-form button[type=submit]")
    assert "必须指定单位" in admin.inner_text('[data-field="unit"]')
    admin.select_option("#role", "member")
    assert not admin.is_visible("#unit")
    admin.select_option("#township", index=1)
    admin.fill("#phone", "13800000009")
    admin.fill("#password", "zhoumin-pass-1")
    admin.click("#user-form button[type=submit]")
    admin.wait_for_url("**/admin/users/*")
    assert "已创建用户 zhoumin" in admin.inner_text("main")
    admin.goto("/admin/users?q=周敏")
    assert admin.locator("#users-table tbody tr").count() == 1
    admin.goto("/admin/audit?action=user.create")
    assert "zhoumin" in admin.inner_text("#audit-table")

    # the new user signs in and finds the new category where problems are reported
    user = make_page(live_server, phone=True)
    sign_in(user, "zhoumin", "zhoumin-pass-1")
    assert "/login" not in user.url and "周敏" in user.locator("#usermenu").text_content()
    form = user.goto("/issues/new")
    if form.status != 404:
        assert form.status == 200
        options = user.locator("select[name=category] option").all_inner_texts()
        assert "路灯照明" in [o.strip() for o in options]
    else:
        listed = user.request.get(f"{live_server.url}/api/v1/categories").json()
        assert "street_lights" in [c["code"] for c in listed["items"]]

    # the admin disables the user: their open session ends at once
    admin.goto("/admin/users?q=zhoumin")
    admin.click("#users-table >> text=zhoumin")
    admin.click("#active-form button[type=submit]")
    assert "已停用 zhoumin" in admin.inner_text("main")
    user.goto("/")
    assert "/login" in user.url

    assert admin.outside == [] and user.outside == []
    assert admin.js_errors == [] and user.js_errors == []
