"""The archive room: from a news archive to an atlas of where the corridors are in the news.

- :mod:`geo.archive.shards`: an archive's shards, read as documents;
- :mod:`geo.archive.cluster`: the Dask client (a local cluster or a scheduler address);
- :mod:`geo.archive.parse`: one task per shard, resumable, toponyms as GeoParquet parts;
- :mod:`geo.archive.aggregate`: mentions per place, per corridor segment and per month;
- :mod:`geo.archive.atlas`: the ``atlas`` command's work, and :mod:`geo.archive.atlas_map` its map.
"""
