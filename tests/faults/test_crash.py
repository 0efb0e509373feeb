"""Crash safety: an acknowledged report survives SIGKILL of the app or a PostgreSQL crash.

A few hundred reports, each with its own photo and client_id, are sent; the
server (or the database) is crashed mid-stream; everything is sent again. Every
acknowledged report must exist exactly once with its photo, and no file in the
uploads folder may be left without a row.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import psycopg2
from PIL import Image
from sqlalchemy.engine import make_url

N_REPORTS = 200
CRASH_AFTER = 80
THREADS = 4


def jpeg(index: int) -> bytes:
    """A small JPEG unique to this report (so each report has its own file)."""
    image = Image.new("RGB", (48, 36), ((index * 37) % 256, (index * 91) % 256, (index * 53) % 256))
    image.putpixel((index % 48, (index // 48) % 36), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def multipart(fields: dict, photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send(url: str, token: str, index: int, client_id: str) -> tuple[int, dict | None]:
    """POST one report; return (status, body) or (0, None) when the connection failed."""
    import urllib.error
    import urllib.request

    body, ctype = multipart(
        {
            "title": f"井盖松动 {index}",
            "category": "safety",
            "lon": f"{104.60 + (index % 50) * 0.002:.6f}",
            "lat": f"{30.10 + (index // 50) * 0.002:.6f}",
            "client_id": client_id,
            "location_source": "gps",
        },
        jpeg(index),
    )
    request = urllib.request.Request(
        url + "/api/v1/issues",
        data=body,
        method="POST",
        headers={"Content-Type": ctype, "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None


def stream(url: str, token: str, ids: list[str], acked: dict, crash=None) -> None:
    """Send every report from THREADS threads; call `crash()` once CRASH_AFTER are acknowledged."""
    lock = threading.Lock()
    queue = list(enumerate(ids))
    crashed = threading.Event()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, client_id = queue.pop(0)
            status, body = send(url, token, index, client_id)
            if status in (200, 201) and body:
                with lock:
                    acked.setdefault(client_id, body["properties"]["ref"])
                    if crash and len(acked) >= CRASH_AFTER and not crashed.is_set():
                        crashed.set()
                        crash()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def check(database_url: str, uploads: Path, ids: list[str], acked: dict) -> dict:
    u = make_url(database_url)
    with psycopg2.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    ) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT i.client_id, i.ref, count(p.id) FROM issues i LEFT JOIN photos p ON p.issue_id = i.id "
                "WHERE i.client_id = ANY(%s) GROUP BY i.client_id, i.ref",
                (ids,),
            )
            found = {cid: (ref, photos) for cid, ref, photos in cur.fetchall()}
            cur.execute(
                "SELECT client_id, count(*) FROM issues WHERE client_id = ANY(%s) GROUP BY 1 HAVING count(*) > 1",
                (ids,),
            )
            duplicated = cur.fetchall()
            cur.execute("SELECT sha256, ext FROM photos")
            known = {sha for sha, _ in cur.fetchall()}
    files = [p for p in uploads.rglob("*") if p.is_file()]
    orphans = [p for p in files if p.name.split(".")[0] not in known]
    for client_id, ref in acked.items():
        assert client_id in found, f"acknowledged {ref} lost"
        assert found[client_id][0] == ref
    assert all(photos == 1 for _, photos in found.values())
    return {
        "sent": len(ids),
        "acknowledged_before_crash": len(acked),
        "found": len(found),
        "duplicated": len(duplicated),
        "orphan_files": len(orphans),
        "files": len(files),
    }


def resend_all(url: str, token: str, ids: list[str], acked: dict) -> None:
    """After the crash: send everything again; acknowledged ones must come back as replays."""
    for index, client_id in enumerate(ids):
        status, body = send(url, token, index, client_id)
        assert status in (200, 201), (index, status)
        if client_id in acked:
            assert status == 200 and body["properties"]["ref"] == acked[client_id]


def test_sigkill_of_the_app_mid_stream_loses_nothing(live_server):
    token = live_server.cli("users", "token", "member").stdout.strip().splitlines()[-1]
    ids = [f"crash-{uuid.uuid4().hex}" for _ in range(N_REPORTS)]
    acked: dict[str, str] = {}
    stream(
        live_server.url,
        token,
        ids,
        acked,
        crash=lambda: os.killpg(live_server.process.pid, signal.SIGKILL),
    )
    before = dict(acked)
    assert CRASH_AFTER <= len(before) < N_REPORTS
    live_server.process.wait(timeout=30)
    live_server.process = None
    live_server.start()  # the start-up sweep removes what the kill left between rename and commit
    resend_all(live_server.url, token, ids, before)
    result = check(live_server.database_url, live_server.instance / "uploads", ids, before)
    print("SIGKILL app:", result)
    assert (
        result["found"] == N_REPORTS and result["duplicated"] == 0 and result["orphan_files"] == 0
    )


def test_postgresql_crash_mid_stream_loses_nothing(own_cluster):
    token = own_cluster.cli("users", "token", "m1").stdout.strip().splitlines()[-1]
    server = own_cluster.server
    server.start()
    ids = [f"pgcrash-{uuid.uuid4().hex}" for _ in range(N_REPORTS)]
    acked: dict[str, str] = {}
    stream(server.url, token, ids, acked, crash=lambda: own_cluster.stop_database(mode="immediate"))
    before = dict(acked)
    assert CRASH_AFTER <= len(before) < N_REPORTS
    own_cluster.start_database()
    time.sleep(0.5)
    resend_all(server.url, token, ids, before)
    server.stop()
    server.start()  # what failed at commit while the database was down is swept at start-up
    from fieldwatch import pg

    result = check(
        pg.database_url(own_cluster.instance), own_cluster.instance / "uploads", ids, before
    )
    print("PostgreSQL crash:", result)
    assert (
        result["found"] == N_REPORTS and result["duplicated"] == 0 and result["orphan_files"] == 0
    )
