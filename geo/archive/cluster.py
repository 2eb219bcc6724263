"""A Dask client for geoparsing: a local cluster (one single-threaded process per core) or an existing scheduler.

Every worker loads the spaCy model, the gazetteer and the ruler once, when it
starts (a worker plugin, also run on workers that join or restart later), and
keeps them in its process for all the shards it is given. The plugin carries the
driver's :mod:`geo.settings`, so a worker geoparses with the same settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client, LocalCluster, WorkerPlugin

from .. import settings
from ..errors import NetworkError

PLUGIN_NAME = "corridormap-geoparser"
#: Plain values a worker can receive (settings holding other objects stay as the worker has them).
_PLAIN = (str, int, float, bool, Path, tuple, frozenset, type(None))


def settings_snapshot() -> dict:
    """The current values of :mod:`geo.settings` (lower-case names holding plain data)."""
    return {name: value for name, value in vars(settings).items()
            if name[:1].islower() and isinstance(value, _PLAIN)}


def apply_settings(values: dict) -> None:
    """Set :mod:`geo.settings` to ``values`` (from :func:`settings_snapshot`)."""
    for name, value in values.items():
        setattr(settings, name, value)


def load_models() -> None:
    """Load the spaCy pipeline, gazetteer and ruler into this process (each is cached for the process)."""
    from ..text.gazetteer import load
    from ..text.mentions import nlp, ruler

    load()
    nlp()
    ruler()


class GeoparserPlugin(WorkerPlugin):
    """Applies the driver's settings and loads the models once per worker process."""

    def __init__(self, values: dict):
        self.values = values

    def setup(self, worker) -> None:
        """Run when the plugin is registered, and on each worker that starts later."""
        apply_settings(self.values)
        load_models()


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                echo: Callable[[str], None] | None = None) -> Iterator[Client]:
    """A client whose workers have the geoparser loaded; closes what it started.

    Parameters
    ----------
    workers : int, optional
        Local cluster size (default: one worker process per core, one thread each).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); its workers need
        corridormap installed and the same filesystem paths for the shards and the output.
    echo : callable, optional
        Called with the dashboard address once the cluster is up.

    Raises
    ------
    NetworkError
        When the scheduler cannot be reached.
    """
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise NetworkError(f"cannot reach the Dask scheduler at {scheduler} ({exc}): check the address, or "
                               "leave out --scheduler to run on a local cluster") from None
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=settings.dask_dashboard_address)
        client = Client(cluster)
    try:
        if echo is not None:
            where = "local cluster" if cluster is not None else f"scheduler {scheduler}"
            echo(f"Dask dashboard ({where}, {len(client.scheduler_info(n_workers=-1)['workers'])} workers): "
                 f"{client.dashboard_link}")
        client.register_plugin(GeoparserPlugin(settings_snapshot()), name=PLUGIN_NAME)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
