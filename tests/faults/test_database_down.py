"""PostgreSQL stopped under the app: 503 pages and clear API errors; the app recovers when it returns."""

import json
import urllib.error
import urllib.request


def fetch(url: str, headers: dict | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def test_database_down_gives_503_and_recovers(own_cluster):
    token = own_cluster.cli("users", "token", "m1").stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    server = own_cluster.server
    server.start()
    status, _, _ = fetch(server.url + "/api/v1/openapi.json", auth)
    assert status == 200
    probe = server.url + "/api/v1/me"
    ok_status, _, _ = fetch(probe, auth)

    own_cluster.stop_database(mode="immediate")
    status, ctype, body = fetch(probe, auth)
    assert status == 503 and "application/json" in ctype
    payload = json.loads(body)
    assert payload["error"] == "unavailable" and "database" in payload["message"]
    assert "Traceback" not in body and "psycopg2" not in body
    status, ctype, body = fetch(
        server.url + "/", {"Accept": "text/html", "Authorization": auth["Authorization"]}
    )
    assert status == 503 and "text/html" in ctype and "服务暂不可用" in body

    own_cluster.start_database()
    status, _, body = fetch(probe, auth)
    assert status == ok_status != 503, body
    assert server.process.poll() is None  # the same server, recovered without a restart
