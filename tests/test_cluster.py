"""Ray: `index --ray` and `import --ray` on a real two-node Ray cluster on 127.0.0.1.

The cluster is started with `ray start` (a head and a second node, one CPU each), as a user would.
Vectors made on the cluster must be the local ones (cosine >= 0.9999, same model id), a snapshot
parsed on the cluster must give the library a local import gives (identical export), and a worker
killed mid-job must be retried with nothing lost or doubled.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import ray

from conftest import EXAMPLES, SHARED, free_port, need_shared
from paperradar import cluster as rc
from paperradar.embed import load_embedder
from paperradar.importers.base import Source
from paperradar.index import update_index
from paperradar.ingest import parsed_chunks
from paperradar.storage import open_library

RAY = Path(sys.executable).with_name("ray")
SNAPSHOT = SHARED / "corpora" / "arxiv-118k" / "kaggle_snapshot_format_sample_200.jsonl.gz"


def _node(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """One Ray node, `ray start --block`: stopping this process stops the node and nothing else."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(RAY), "start", "--block", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _wait_for_cpus(address: str, cpus: int, env: dict[str, str], logs: list[Path]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = subprocess.run(
            [str(RAY), "status", f"--address={address}"], env=env, capture_output=True, text=True
        )
        if sum(float(n) for n in re.findall(r"/(\d+(?:\.\d+)?) CPU", status.stdout)) >= cpus:
            return
        time.sleep(2)
    pytest.fail(f"the Ray cluster never had {cpus} CPUs:\n" + "\n".join(p.read_text()[-2000:] for p in logs))


@pytest.fixture(scope="module")
def cluster_address():
    """A head and a second node on 127.0.0.1, one CPU each; stopped afterwards, leaving any other
    Ray on the machine alone. Token authentication (Ray's default for a head started on this
    machine) is off: this process reads its own auth mode when `ray` is imported, before the
    fixture could hand it a token, and the cluster listens on loopback only."""
    temp = Path(tempfile.mkdtemp(prefix="prray-"))  # short: Ray's socket paths must fit in 107 bytes
    auth = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env = {**os.environ, **auth}
    address = f"127.0.0.1:{free_port()}"
    node = ["--node-ip-address=127.0.0.1", "--num-cpus=1"]
    logs = [temp / "head.log", temp / "node.log"]
    head = [
        f"--port={address.split(':')[1]}",
        "--include-dashboard=false",
        f"--temp-dir={temp}",
        "--disable-usage-stats",
    ]
    nodes = [_node(["--head", *head, *node], env, logs[0])]
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in auth.items():
                mp.setenv(name, value)  # this process (the CLI runs in it) talks to the cluster too
            _wait_for_cpus(address, 1, env, logs)
            nodes.append(_node([f"--address={address}", *node], env, logs[1]))
            _wait_for_cpus(address, 2, env, logs)
            yield address
            rc.disconnect()
    finally:
        for proc in reversed(nodes):
            proc.terminate()
        for proc in nodes:
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(temp, ignore_errors=True)


def _vectors(db: Path, model_id: str) -> dict[int, np.ndarray]:
    with closing(open_library(db)) as lib:
        return {pk: np.frombuffer(v, dtype=np.float32) for pk, v in lib.vectors(model_id)}


def _library(cli_run, tmp_path: Path, name: str) -> Path:
    db = tmp_path / f"{name}.db"
    cli_run(db, "import", str(EXAMPLES), "--no-index")
    return db


@pytest.fixture
def cli_run():
    from typer.testing import CliRunner

    from paperradar.cli import app, register_commands

    register_commands()
    runner = CliRunner()

    def run(db: Path, *args: str) -> str:
        result = runner.invoke(app, ["--db", str(db), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


@pytest.mark.parametrize("tier", ["fast", "quality"])
def test_index_on_ray_gives_the_local_vectors(cluster_address, cli_run, tmp_path, tier):
    local, remote = _library(cli_run, tmp_path, "local"), _library(cli_run, tmp_path, "remote")
    cli_run(local, "index", "--tier", tier)
    cli_run(remote, "index", "--tier", tier, "--ray", cluster_address, "--ray-workers", "2")
    model_id = load_embedder(tier).model_id  # type: ignore[arg-type]
    mine, theirs = _vectors(local, model_id), _vectors(remote, model_id)
    assert len(mine) > 50 and set(mine) == set(theirs)
    cosines = [float(mine[pk] @ theirs[pk]) for pk in mine if np.any(mine[pk])]
    if tier == "fast":  # a table lookup: the same floats wherever it runs
        assert min(cosines) >= 0.9999
    else:  # int8 activations are scaled per 32-text run, and the cluster's calls keep the local runs
        assert min(cosines) >= 0.999


def test_import_on_ray_gives_the_local_library(cluster_address, cli_run, tmp_path):
    snapshot = need_shared(SNAPSHOT)
    local, remote = tmp_path / "local.db", tmp_path / "remote.db"
    cli_run(local, "import", str(snapshot), "--no-index")
    cli_run(
        remote, "import", str(snapshot), "--no-index", "--ray", cluster_address, "--ray-shard-lines", "40"
    )
    exports = [_timeless(cli_run(db, "papers", "export", "--format", "jsonl")) for db in (local, remote)]
    assert exports[0].count("\n") >= 190
    assert exports[0] == exports[1]


def _timeless(export: str) -> str:
    """An export without the import times, the one thing two imports of one file may not share."""
    return re.sub(r'"imported_at": "[^"]*"', '"imported_at": ""', export)


def test_a_worker_killed_mid_job_is_retried(cluster_address, tmp_path, cli_run):
    db, local = _library(cli_run, tmp_path, "killed"), _library(cli_run, tmp_path, "local")
    cli_run(local, "index", "--tier", "fast")
    embedder = rc.RayEmbedder("fast", rc.Cluster(address=cluster_address, workers=2))
    victim = ray.get(embedder.workers[0].pid.remote())
    killed: list[int] = []

    def kill_once(done: int, total: int | None = None, message: str = "") -> None:
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    try:
        with closing(open_library(db)) as lib:
            report = update_index(lib, embedder, progress=kill_once, batch=16)
    finally:
        rc.disconnect()
    mine, theirs = _vectors(local, embedder.model_id), _vectors(db, embedder.model_id)
    assert killed and killed[0] < report.embedded  # the kill came with work still to do
    assert sorted(theirs) == sorted(mine) and report.embedded == len(mine)  # nothing lost or doubled
    cosines = [float(mine[pk] @ theirs[pk]) for pk in mine if np.any(mine[pk])]
    # the fast tier is a table lookup: the retried batches' vectors are the local ones
    assert min(cosines) >= 0.9999


def test_a_parsing_worker_killed_mid_import_is_retried(cluster_address):
    snapshot = need_shared(SNAPSHOT)
    local = _records(parsed_chunks("arxiv_snapshot", Source.from_file(snapshot), None))
    parsers = rc.ShardParsers(rc.Cluster(address=cluster_address, workers=2, shard_lines=20))
    victim = ray.get(parsers.actors[0].ready.remote())
    chunks = parsers.chunks("arxiv_snapshot", Source.from_file(snapshot))
    try:
        got = [next(chunks)]
        os.kill(victim, signal.SIGKILL)  # with shards still to parse, some of them handed to it
        got.extend(chunks)
        successor = ray.get(parsers.actors[0].ready.remote())
    finally:
        parsers.close()
        rc.disconnect()
    assert successor != victim  # the killed worker was replaced
    assert len(local) >= 190 and _records(got) == local  # nothing lost or doubled, in file order


def _records(chunks) -> list[tuple]:
    return [(p.record.key, p.record.line, p.raw) for prepared, _ in chunks for p in prepared]
