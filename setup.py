"""Build-time mapping of the repository's data folders into the package.

One source of truth: ``layers/`` (with ``layers/gazetteer/``) and ``examples/`` stay at the top of
the repository and are mapped into the wheel as ``geo/layers`` and ``geo/examples``; everything else
is configured in ``pyproject.toml``. An editable install reads them from the checkout.
"""

from setuptools import find_packages, setup

MAPPED = {"geo.layers": "layers", "geo.layers.gazetteer": "layers/gazetteer", "geo.examples": "examples"}

setup(
    packages=find_packages(include=["geo", "geo.*"]) + list(MAPPED),
    package_dir=MAPPED,
    package_data={
        "geo": ["py.typed", "data/README.md", "data/gazetteer.npz.zst", "data/geonames-points.npz.zst", "data/snapshot/*.gpkg", "data/snapshot/places.parquet", "data/snapshot/manifest.json"],
        "geo.layers": ["*.toml"],
        "geo.layers.gazetteer": ["*.toml"],
        "geo.examples": ["*.txt"],
    },
)
