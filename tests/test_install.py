"""What a user installs is what works: the wheel, installed (not editable) into a fresh venv, runs
from an empty folder with no network and no ../shared/ (issue 23).

The wheel is built in a temporary folder and installed without its dependencies into a new venv
that sees this interpreter's site-packages through a ``.pth`` line (so no download is needed); the
package itself, its layer files, gazetteer data, example article and bundled snapshot come from the
wheel alone. ``.ci/run`` does the same with a full ``pip install`` of the wheel.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel and sdist, install the wheel into a fresh venv; return its paths."""
    root = tmp_path_factory.mktemp("install")
    dist = root / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True, cwd=root)
    wheel = next(dist.glob("corridormap-*.whl"))
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies come from this interpreter's site-packages, after the venv's own
    deps = [p for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]] if Path(p).is_dir()]
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    with zipfile.ZipFile(wheel) as zf:  # a wheel is a zip laid out as site-packages (pip does this and the script)
        zf.extractall(purelib)
    script = env_dir / "bin" / "corridormap"
    script.write_text(f"#!{python}\nimport sys\nfrom geo.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    return {"root": root, "dist": dist, "wheel": wheel, "python": python, "script": script, "purelib": purelib}


def _run(installed: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDORMAP_") and k != "PYTHONPATH"}
    env.update({"CORRIDORMAP_CACHE": str(installed["root"] / "cache"), "CORRIDORMAP_SHARED": str(cwd / "no-shared"),
                "HOME": str(installed["root"] / "home")})
    return subprocess.run([str(installed["script"]), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900)


def test_the_wheel_and_sdist_carry_the_layers_the_example_and_the_snapshot(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for path in ["geo/layers/bam.toml", "geo/layers/gazetteer/places.toml", "geo/examples/corridors-2025.txt",
                 "geo/data/snapshot/manifest.json", "geo/data/snapshot/bam.gpkg"]:
        assert path in names
    assert not any(n.startswith("layers/") for n in names)  # mapped into the package, not beside it
    sdist = next(installed["dist"].glob("corridormap-*.tar.gz"))
    import tarfile

    members = tarfile.open(sdist).getnames()
    assert any(m.endswith("/layers/gazetteer/places.toml") for m in members)
    assert any(m.endswith("/geo/data/snapshot/manifest.json") for m in members)


def test_the_installed_tool_lists_its_layers_from_an_empty_folder(installed, tmp_path):
    result = _run(installed, "layers", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "bam" in result.stdout and "bundled OSM 2026-04" in result.stdout and "schematic" in result.stdout
    assert str(installed["purelib"] / "geo" / "layers") in result.stdout  # the wheel's copy, not the checkout's
    version = _run(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0 and "0.1.0" in version.stdout and "2026-04" in version.stdout


def test_the_installed_tool_builds_the_example_offline_from_an_empty_folder(installed, tmp_path):
    article = installed["purelib"] / "geo" / "examples" / "corridors-2025.txt"
    result = _run(installed, "build", str(article), "--out", "output/", "--offline", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "bam: snapshot" in result.stdout and "north-south: snapshot" in result.stdout
    assert (tmp_path / "output" / "index.html").is_file() and (tmp_path / "output" / "bam.geojson").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]  # no lock or temporary file beside it
