"""The `--ray` options shared by `paperradar index` and `paperradar import` (see cluster.py).
Nothing here imports Ray: it is loaded only when `--ray` is given."""

from __future__ import annotations

from typing import Annotated

import typer

from ..cluster import SHARD_LINES, Cluster

RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run the heavy work on a Ray cluster: 'auto' (the one `ray start` made here), HOST:PORT, "
        "ray://HOST:PORT, or 'local' (a Ray inside this process). Needs `pip install 'paperradar\\[ray]'`.",
    ),
]
RayWorkers = Annotated[int, typer.Option("--ray-workers", min=1, help="Workers on the cluster.")]
RayThreads = Annotated[int, typer.Option("--ray-threads", min=1, help="CPU threads per worker.")]
RayGpus = Annotated[
    float, typer.Option("--ray-gpus", min=0.0, help="GPUs per embedding worker (quality tier on CUDA).")
]
RayShardLines = Annotated[
    int, typer.Option("--ray-shard-lines", min=1, help="Lines of a bulk snapshot per parsing task.")
]


def make_cluster(
    address: str | None, workers: int = 2, threads: int = 1, gpus: float = 0.0, shard_lines: int = SHARD_LINES
) -> Cluster | None:
    """The cluster the options name, or None without `--ray`."""
    if not address:
        return None
    return Cluster(address=address, workers=workers, threads=threads, gpus=gpus, shard_lines=shard_lines)
