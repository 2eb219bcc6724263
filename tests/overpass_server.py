"""Start and stop the real Overpass API in ../shared/overpass for tests.

The dispatcher uses a fixed shared-memory name (``/dev/shm/osm3s_osm_base``), so two
cannot share one ``/dev/shm``. Where the machine allows it (root, ``unshare``), the
server runs in its own mount namespace with a private ``/dev/shm``: any number of
test processes can run one each, and a dispatcher someone else left behind does
not matter. Elsewhere, an exclusive ``fcntl`` lock on a file in the temporary folder
is held from before the start until after the stop, a second pytest process waits
for it, and a shared-memory file whose dispatcher is dead is removed as stale.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

LOCK_FILE = Path(tempfile.gettempdir()) / "corridormap-overpass-dispatcher.lock"
SHM = Path("/dev/shm/osm3s_osm_base")
LOCK_WAIT_S = 900.0
START_WAIT_S = 60.0


class ServerError(RuntimeError):
    """The local Overpass server could not be started."""


@dataclass
class LocalOverpass:
    """A running local Overpass API: ``url`` is its API base (``http://127.0.0.1:PORT/api``)."""

    url: str
    folder: Path
    db_dir: Path
    run_dir: Path
    lock: IO[str] | None
    isolated: bool = False

    def exchanges(self) -> list[tuple[str, int, bytes]]:
        """Every interpreter request so far, oldest first: (query, HTTP status, response body).

        From the files serve.py saves per request (``RUN_DIR/requests/<time>.query`` and
        ``<time>.<status>.body``).
        """
        folder = self.run_dir / "requests"
        out = []
        for query in sorted(folder.glob("*.query"), key=lambda p: float(p.stem)):
            body = next(folder.glob(f"{query.stem}.*.body"), None)
            status = int(body.name.split(".")[-2]) if body else 0
            out.append((query.read_text(encoding="utf-8"), status, body.read_bytes() if body else b""))
        return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def acquire_lock(path: Path = LOCK_FILE, wait_s: float = LOCK_WAIT_S) -> IO[str]:
    """Hold the machine-wide dispatcher lock (waits up to ``wait_s`` for another holder)."""
    handle = open(path, "a+", encoding="utf-8")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise ServerError(f"another process held {path} (a running Overpass dispatcher) for {wait_s:.0f} s")
            time.sleep(0.5)
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def start(folder: Path, workdir: Path, osm_file: str = "region.osm.gz") -> LocalOverpass:
    """Load ``folder/osm_file`` into a fresh database under ``workdir`` and start the server on a free port.

    Raises
    ------
    ServerError
        When a dispatcher is already running outside the lock, or the server does not answer.
    """
    isolated = can_isolate()
    lock = None if isolated else acquire_lock()
    if not isolated and SHM.exists():
        if dispatcher_pids():
            _release(lock)
            raise ServerError(f"{SHM} exists: an Overpass dispatcher not started by these tests is running "
                              f"(stop it with {folder}/stop_local.sh RUN_DIR {folder})")
        SHM.unlink(missing_ok=True)  # left by a dispatcher that was killed: no process holds it
    db_dir, run_dir = workdir / "db", workdir / "run"
    try:
        _run(["sh", str(folder / "load_db.sh"), str(folder), str(folder / osm_file), str(db_dir)])
        port = free_port()
        run = ["sh", str(folder / "run_local.sh"), str(folder), str(db_dir), str(port), str(run_dir)]
        _run(_in_private_shm(run) if isolated else run)
        server = LocalOverpass(f"http://127.0.0.1:{port}/api", folder, db_dir, run_dir, lock, isolated)
        _wait_until_up(server)
        return server
    except BaseException:
        _stop(folder, run_dir, isolated)
        _release(lock)
        raise


def can_isolate() -> bool:
    """Whether this process may start programs in a mount namespace with a private ``/dev/shm``."""
    if os.environ.get("CORRIDORMAP_TEST_SHARED_SHM") == "1":
        return False
    try:
        proc = subprocess.run(_in_private_shm(["true"]), capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def _in_private_shm(cmd: list[str]) -> list[str]:
    """``cmd`` run by ``sh`` in a new mount namespace whose ``/dev/shm`` is a fresh tmpfs.

    Programs that ``cmd`` leaves running in the background keep the namespace alive.
    """
    script = 'mount -t tmpfs -o size=256m tmpfs /dev/shm && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *cmd]


def dispatcher_pids() -> list[int]:
    """Process ids of running Overpass dispatchers on this machine (any namespace)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dispatcher") and b"--osm-base" in argv:
            pids.append(int(proc.name))
    return pids


def stop(server: LocalOverpass) -> None:
    """Stop serve.py and the dispatcher, free the shared memory, release the lock."""
    try:
        _stop(server.folder, server.run_dir, server.isolated)
    finally:
        _release(server.lock)


def _stop(folder: Path, run_dir: Path, isolated: bool) -> None:
    """Stop what run_local.sh started in ``run_dir`` (if anything); the lock, if any, is still held.

    An isolated dispatcher is stopped by its process id (``--terminate`` would reach
    the machine's shared memory, not its own); its ``/dev/shm`` goes with it.
    """
    if run_dir.exists():
        stop_cmd = ["sh", str(folder / "stop_local.sh"), str(run_dir)]
        _run(stop_cmd if isolated else [*stop_cmd, str(folder)], check=False)
    if not isolated:
        SHM.unlink(missing_ok=True)  # our dispatcher is gone; nobody else may start one while we hold the lock


def _release(lock: IO[str] | None) -> None:
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise ServerError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


def _wait_until_up(server: LocalOverpass) -> None:
    deadline = time.monotonic() + START_WAIT_S
    last = ""
    while time.monotonic() < deadline:
        try:
            response = requests.get(server.url + "/status", timeout=5)
            if response.ok and "slots available" in response.text:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.3)
    raise ServerError(f"the local Overpass server at {server.url} did not answer within {START_WAIT_S:.0f} s ({last}); "
                      f"logs in {server.run_dir}")
