"""WGS-84 <-> GCJ-02 for AMap's base tiles, with the kept `prcoords` library (no maths of ours).

We store WGS-84 always. GCJ-02 is only for drawing on AMap: the browser does
the same with the vendored `gcoord`; here it places the map's first view. The
shift applies inside China's box only, the same box `gcoord` uses, so both
sides agree on what they leave alone.
"""

from __future__ import annotations

import prcoords

#: gcoord 1.0.7's "in China" box (lon 72.004–137.8347, lat 0.8293–55.8271)
_CHINA = (72.004, 0.8293, 137.8347, 55.8271)


def in_china(lon: float, lat: float) -> bool:
    """Tell whether GCJ-02 shifts this point (it leaves the rest of the world alone)."""
    return _CHINA[0] <= lon <= _CHINA[2] and _CHINA[1] <= lat <= _CHINA[3]


def wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 (lon, lat) of a WGS-84 point."""
    if not in_china(lon, lat):
        return lon, lat
    shifted = prcoords.wgs_gcj((lat, lon), False)
    return shifted.lon, shifted.lat


def gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    """Return the WGS-84 (lon, lat) of a GCJ-02 point (iterated to a fixed point)."""
    if not in_china(lon, lat):
        return lon, lat
    back = prcoords.gcj_wgs_bored((lat, lon), False)
    return back.lon, back.lat
