"""The Docker image's own file set answers ``--help``, checked without a Docker engine.

The image (``Dockerfile``) copies a few paths into its work directory and runs
``pip install .`` there; ``yujing`` is its entry point. This test reads the
Dockerfile (``WORKDIR``, ``COPY``, ``ENV``, the ``RUN pip install``, the
``ENTRYPOINT``), copies exactly those paths into a temporary image root,
installs that directory into a fresh venv with its dependencies, and runs
``yujing --help``, ``yujing worker --help`` and ``yujing sinks --help`` from an
empty directory with the image's environment: so a command that imports
something the image does not hold (``benchmarks/``, a dev-only package) fails
here.

The dependencies come from PyPI through a wheelhouse of our own,
``$XDG_CACHE_HOME/yujing/wheels/<key>`` (pip's HTTP cache is not enough: it
still resolves over the network and, behind some proxies, stores nothing). The
key is the Python version and the copied ``pyproject.toml``'s dependencies and
build requirements, so a changed dependency fetches a fresh set; the install
itself is ``pip install --no-index --find-links <wheelhouse> .``. The first run
downloads (about 30 s, ~70 MB), later runs only install (about 30 s on a busy
two-core machine). ``pip --no-compile`` skips writing ``.pyc`` files, which
changes no file the commands import.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from streams.cli import COMMANDS
from streams.runtime.settings import HostSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"

pytestmark = pytest.mark.slow


@dataclass
class Image:
    """What the Dockerfile says about the image's files and command."""

    workdir: str = "/"
    copies: list[tuple[list[str], str]] = field(default_factory=list)  # (sources, dest)
    env: dict[str, str] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return lines


def _words(args: str) -> list[str]:
    """An instruction's arguments: the JSON (exec) form or whitespace-separated words."""
    if args.startswith("["):
        value = json.loads(args)
        assert isinstance(value, list), args
        return [str(v) for v in value]
    return shlex.split(args)


def parse_dockerfile(text: str) -> Image:
    """The single-stage subset this project's Dockerfile uses; anything else fails loudly."""
    image = Image()
    stages = 0
    for line in _logical_lines(text):
        instruction, _, args = line.partition(" ")
        instruction, args = instruction.upper(), args.strip()
        if instruction == "FROM":
            stages += 1
            assert stages == 1, "a multi-stage Dockerfile: teach this test which stage ships"
        elif instruction == "WORKDIR":
            image.workdir = str(Path(image.workdir, args))
        elif instruction in ("COPY", "ADD"):
            flags: list[str] = []
            while args.startswith("--"):
                flag, _, args = args.partition(" ")
                flags.append(flag)
                args = args.strip()
            assert all(f.startswith("--chown") for f in flags), f"not modelled: {line}"
            paths = _words(args)
            assert len(paths) >= 2, line
            dest = str(Path(image.workdir, paths[-1])) + ("/" if paths[-1].endswith("/") else "")
            image.copies.append((paths[:-1], dest))
        elif instruction == "ENV":
            key, sep, value = args.partition("=")
            assert sep and " " not in key, f"ENV in the form KEY=value only: {line}"
            image.env[key] = value
        elif instruction == "RUN":
            image.runs.append(args)
        elif instruction == "ENTRYPOINT":
            image.entrypoint = _words(args)
    return image


def build_root(image: Image, context: Path, root: Path) -> Path:
    """Copy exactly what the image copies into ``root``; returns its work directory."""
    assert not (context / ".dockerignore").exists(), "teach this test the .dockerignore"
    for sources, dest in image.copies:
        target = root / dest.strip("/")
        for source in sources:
            src = context / source
            assert src.exists(), f"the Dockerfile copies {source}, which is not there"
            if src.is_dir():
                # COPY dir dest: the directory's contents go into dest
                shutil.copytree(src, target, dirs_exist_ok=True)
            else:
                into_dir = dest.endswith("/") or len(sources) > 1
                to = target / src.name if into_dir else target
                to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, to)
    workdir = root / image.workdir.lstrip("/")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def wheelhouse(project: Path, python: Path) -> Path:
    """Wheels of the project's dependencies and build requirements, fetched once per key."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    wanted = sorted(meta["project"].get("dependencies", [])) + sorted(
        meta.get("build-system", {}).get("requires", [])
    )
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = hashlib.sha256(json.dumps([version, sys.platform, wanted]).encode()).hexdigest()[:16]
    home = HostSettings.from_env().cache_home / "yujing" / "wheels"
    ready = home / key
    if (ready / "COMPLETE").exists():
        return ready
    partial = home / f".{key}-{uuid.uuid4().hex[:8]}"
    partial.mkdir(parents=True)
    build = meta.get("build-system", {}).get("requires", [])
    fetched = subprocess.run(
        [str(python), "-m", "pip", "download", "-q", "-d", str(partial), str(project), *build],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if fetched.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        pytest.fail(
            "could not fetch the image's dependencies from PyPI (make setup needs it too):\n"
            + fetched.stderr[-2000:],
            pytrace=False,
        )
    (partial / "COMPLETE").write_text("\n".join(wanted) + "\n")
    try:
        partial.rename(ready)
    except OSError:  # another run got there first: use its wheels
        shutil.rmtree(partial, ignore_errors=True)
    return ready


def test_the_dockerfile_is_read_as_the_image_builds() -> None:
    image = parse_dockerfile(DOCKERFILE.read_text())
    assert image.workdir == "/app"
    assert (["pyproject.toml", "README.md"], "/app/") in image.copies
    assert (["streams"], "/app/streams") in image.copies
    assert not any("benchmarks" in s for sources, _ in image.copies for s in sources)
    assert image.entrypoint == ["yujing"]
    assert any(
        shlex.split(r)[:2] == ["pip", "install"] and "." in shlex.split(r) for r in image.runs
    )
    tricky = parse_dockerfile(
        'FROM x\nWORKDIR /a\nWORKDIR b\nCOPY --chown=u ["f", "g", "./"]\n'
        "ENV A=1\nRUN pip install \\\n  --no-cache-dir .\n"
    )
    assert tricky.copies == [(["f", "g"], "/a/b/")]
    assert [shlex.split(r) for r in tricky.runs] == [["pip", "install", "--no-cache-dir", "."]]
    assert tricky.env == {"A": "1"}


def test_the_images_file_set_answers_help_for_yujing_worker_and_sinks(tmp_path: Path) -> None:
    image = parse_dockerfile(DOCKERFILE.read_text())
    workdir = build_root(image, ROOT, tmp_path / "image")
    installs = [r for r in image.runs if "pip install" in r]
    assert len(installs) == 1 and " . " in f"{installs[0]} ", "the image runs `pip install .`"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip_install = [str(python), "-m", "pip", "install", "-q", "--no-compile", "--no-index"]
    wheels = wheelhouse(workdir, python)
    installed = subprocess.run(
        [*pip_install, "--find-links", str(wheels), "."],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    # the image's environment, from an empty directory: nothing but the install to import
    empty = tmp_path / "cwd"
    empty.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        **{k: v.replace("/home/yujing", str(tmp_path / "home")) for k, v in image.env.items()},
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*args], cwd=empty, env=env, capture_output=True, text=True, timeout=60
        )

    where = run(str(python), "-c", "import streams, importlib.util as u; "
                "print(streams.__file__); print(u.find_spec('benchmarks'))")  # fmt: skip
    assert where.returncode == 0, where.stderr
    streams_file, benchmarks = where.stdout.split()
    assert Path(streams_file).is_relative_to(venv), "streams comes from the install"
    assert benchmarks == "None", "the image holds no benchmarks package"

    command = str(venv / "bin" / image.entrypoint[0])
    top = run(command, "--help")
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("usage: yujing [-h] COMMAND ..."), top.stdout
    listed = {line.split()[0] for line in top.stdout.splitlines() if line.startswith("    ")}
    assert set(COMMANDS) <= listed, top.stdout
    for name, option in (("worker", "--web-port"), ("sinks", "--sms-port")):
        sub = run(command, name, "--help")
        assert sub.returncode == 0, f"yujing {name} --help:\n{sub.stderr}"
        assert sub.stdout.startswith(f"usage: yujing {name} [-h]"), sub.stdout
        assert option in sub.stdout, sub.stdout
        assert "Traceback" not in sub.stderr, sub.stderr
