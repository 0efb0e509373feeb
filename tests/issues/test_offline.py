"""The service worker is served from the site root with its lists filled in."""

import json
import re


def test_service_worker_served_at_root_with_version_and_lists(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    text = response.get_data(as_text=True)
    assert "__VERSION__" not in text and "__PRECACHE__" not in text
    precache = json.loads(re.search(r"var PRECACHE = (\[.*?\]);", text).group(1))
    assert "/static/js/offline-queue.js" in precache
    assert "/static/vendor/leaflet/leaflet.js" in precache
    pages = json.loads(re.search(r"var OFFLINE_PAGES = (\[.*?\]);", text).group(1))
    assert "/issues/new" in pages
