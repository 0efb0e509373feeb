"""The real `fieldwatch areas import` command: counts on success, one line and exit 1 on error."""

from __future__ import annotations

import sqlalchemy as sa
from shapely.geometry import Point, box

T = "512002001000"  # a township of the demo county


def _villages(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT code, name, ST_AsEWKB(boundary), ST_AsEWKB(location) FROM areas "
                    "WHERE level = 'village' ORDER BY code"
                )
            ).all()
    finally:
        engine.dispose()


def test_import_command_all_or_nothing(live_server, tmp_path, files):
    before = _villages(live_server.database_url)
    broken = files.write(
        tmp_path / "broken.geojson",
        [
            (Point(104.6, 30.1), {"code": T[:9] + "001", "name": "改名村"}),
            (box(104.6, 30.1, 104.61, 30.11), {"code": "512002099001", "name": "无主村"}),
        ],
    )
    failed = live_server.cli("areas", "import", str(broken), "--level", "village")

    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and "要素 #2" in lines[0] and "512002099001" in lines[0]
    assert _villages(live_server.database_url) == before

    good = files.write(
        tmp_path / "good.geojson",
        [(Point(104.6, 30.1), {"code": T[:9] + "001", "name": "改名村"})],
    )
    done = live_server.cli("areas", "import", str(good), "--level", "village")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip().splitlines()[-1].startswith("imported 1 villages: 0 created, 1 updated")
    )
    after = {row.code: row.name for row in _villages(live_server.database_url)}
    assert after[T[:9] + "001"] == "改名村" and len(after) == len(before)
