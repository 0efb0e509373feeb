"""Hand-made boundary files, written with pyogrio in the format and CRS a test asks for."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box

COUNTY = "512099000000"
T1, T2 = "512099001000", "512099002000"


def write_features(path: Path, features, crs="EPSG:4326", geometry_type="Unknown", driver=None):
    """Write [(geometry or None, {field: value})] to `path`; fields from the first feature."""
    names = list(features[0][1])
    geoms = np.array([None if g is None else shapely.to_wkb(g) for g, _ in features], dtype=object)
    columns = [np.array([props.get(n) for _, props in features], dtype=object) for n in names]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)  # on purpose
        pyogrio.raw.write(
            str(path), geoms, columns, names, geometry_type=geometry_type, crs=crs, driver=driver
        )
    return path


def zip_shapefile(shp: Path, inner: str = "data/") -> Path:
    """Zip a shapefile's parts (in a subfolder, as people often do)."""
    target = shp.with_suffix(".zip")
    with zipfile.ZipFile(target, "w") as archive:
        for part in shp.parent.glob(shp.stem + ".*"):
            if part.suffix != ".zip":
                archive.write(part, inner + part.name)
    return target


def project(geom, epsg: int):
    """Transform a lon/lat geometry to EPSG:`epsg`."""
    t = Transformer.from_crs(4326, epsg, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


@pytest.fixture
def county(app):
    """The county the imported townships belong to."""
    from fieldwatch.areas.services import upsert_area
    from fieldwatch.extensions import db

    area = upsert_area(COUNTY, "测试县", "county", None, None, box(104.0, 30.0, 104.2, 30.1))
    db.session.commit()
    return area


@pytest.fixture
def township_file(tmp_path):
    """Two townships as GeoJSON (EPSG:4326), kinds in Chinese."""
    return write_features(
        tmp_path / "townships.geojson",
        [
            (box(104.0, 30.0, 104.1, 30.1), {"code": T1, "name": "东风镇", "kind": "镇"}),
            (box(104.1, 30.0, 104.2, 30.1), {"code": T2, "name": "城关街道", "kind": "街道"}),
        ],
    )


@pytest.fixture
def townships(app, county, township_file):
    from fieldwatch.areas.importer import import_areas
    from fieldwatch.extensions import db

    import_areas(township_file, "township")
    db.session.commit()


class Files:
    """The helpers above, for tests (pytest's importlib mode cannot import conftest)."""

    write = staticmethod(write_features)
    zip_shapefile = staticmethod(zip_shapefile)
    project = staticmethod(project)


@pytest.fixture
def files() -> Files:
    return Files()
