"""Heavy, parallel work on a Ray cluster: embedding papers and parsing shards of a bulk snapshot.

Ray is an optional extra (`pip install 'paperradar[ray]'`), imported only in this module and only
when a command is given `--ray`. Two jobs run there; this process stays the library's one writer:

- Embedding. `RayEmbedder` is an `Embedder` whose `embed_batch` spreads texts over actors. Each
  actor loads the model once, from the model files sent through Ray's object store (no shared
  disk), so its vectors and model id are those of the local tier: the library cannot tell them
  apart. `index.update_index` drives it unchanged, so unchanged text is never embedded twice.
- Parsing. `ray_chunks` cuts a record-per-line source (the arXiv bulk snapshot) into shards of
  whole lines, parses and prepares each shard on parsing actors (`ShardParsers`) and yields the
  prepared chunks in file order, so matching and writing happen here, in order, exactly as in a
  local import.

A worker killed mid-job is restarted by Ray and its tasks run again (`max_restarts`,
`max_task_retries`). Results are written only here, after they arrive, so a retry neither loses
nor doubles anything. Does I/O: the network to the cluster, the model files.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .embed import Tier, tier_files
from .errors import BackendUnavailable, InvalidInput
from .importers.base import ParseError, Source
from .progress import Progress

if TYPE_CHECKING:
    from .ingest import Chunk

LINE_FORMATS = ("arxiv_snapshot",)  # one record a line, and each line read on its own
SHARD_LINES = 20_000  # lines per parsing task
TEXTS_PER_TASK = 512  # texts per embedding task: small enough to balance, big enough to batch
RETRIES = 3
INSTALL_HINT = "Ray is not installed: pip install 'paperradar[ray]'"


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise BackendUnavailable(INSTALL_HINT) from e
    return ray


@dataclass(frozen=True)
class Cluster:
    """Where the work runs: a cluster address (`auto`, `HOST:PORT`, `ray://HOST:PORT`) or `local`
    (a Ray started inside this process, for one machine), and how work is cut."""

    address: str = "auto"
    workers: int = 2  # actors, embedding or parsing
    threads: int = 1  # CPU threads per worker
    gpus: float = 0.0  # GPUs per embedding actor (the quality tier then runs on CUDA)
    shard_lines: int = SHARD_LINES  # lines per parsing task


def connect(cluster: Cluster) -> Any:
    """Join the cluster (or start a local one); our package travels to the workers with the job."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    env = {"py_modules": [str(Path(__file__).resolve().parent)]}
    kwargs: dict[str, Any] = {"runtime_env": env, "log_to_driver": False, "logging_level": "WARNING"}
    try:
        if cluster.address == "local":
            ray.init(num_cpus=cluster.workers * cluster.threads, include_dashboard=False, **kwargs)
        else:
            ray.init(address=cluster.address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise BackendUnavailable(f"cannot reach the Ray cluster at {cluster.address}: {e}") from e
    return ray


def disconnect() -> None:
    ray = _ray()
    if ray.is_initialized():
        ray.shutdown()


# ---------------------------------------------------------------- embedding


def model_files(tier: Tier) -> tuple[dict[str, bytes], str]:
    """The files of a tier's model (name relative to its folder -> bytes) and their digest."""
    folder, digest = tier_files(tier)
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    return files, digest


class EmbedWorker:
    """One actor: writes the model files it was sent to a private folder and loads them once."""

    def __init__(self, tier: Tier, files: dict[str, bytes], digest: str, threads: int, gpu: bool):
        folder = Path(tempfile.mkdtemp(prefix="paperradar-model-"))
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        self.embedder: Any
        if tier == "fast":
            from .embed.static import StaticEmbedder

            self.embedder = StaticEmbedder(folder, digest)
        else:
            from .embed.onnx import OnnxEmbedder

            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu else None
            self.embedder = OnnxEmbedder(folder, digest, providers=providers, threads=threads)

    def model_id(self) -> str:
        return str(self.embedder.model_id)

    def pid(self) -> int:
        return os.getpid()

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.embed_batch(texts), dtype=np.float32)


class _Plan:
    """How the local embedder groups one call's texts: the quality tier runs them shortest first,
    a fixed number at a time (embed/onnx.py); the fast tier embeds each text on its own."""

    def __init__(self, tier: Tier, gpu: bool):
        self.unit, self._tokenizer = 1, None
        if tier == "quality":
            from .embed.onnx import BATCH, load_tokenizer

            self.unit = BATCH["fp32" if gpu else "int8"]
            self._tokenizer = load_tokenizer(tier_files(tier)[0])

    def order(self, texts: list[str]) -> list[int]:
        if self._tokenizer is None:
            return list(range(len(texts)))
        from .embed.onnx import length_order

        return length_order([e.ids for e in self._tokenizer.encode_batch(texts)])


class RayEmbedder:
    """An Embedder backed by actors on a Ray cluster; same model id and vectors as the local tier."""

    def __init__(self, tier: Tier, cluster: Cluster):
        ray = connect(cluster)
        files, digest = model_files(tier)
        threads = str(cluster.threads)
        actor = ray.remote(EmbedWorker).options(
            num_cpus=cluster.threads,
            num_gpus=cluster.gpus,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": threads, "RAYON_RS_NUM_CPUS": threads}},
        )
        self._files = ray.put(files)  # held for the job: a restarted actor is built from it again
        self._ray = ray
        self._turn = 0
        self.workers = [
            actor.remote(tier, self._files, digest, cluster.threads, cluster.gpus > 0)
            for _ in range(cluster.workers)
        ]
        ids = set(ray.get([w.model_id.remote() for w in self.workers]))
        if len(ids) != 1:
            raise BackendUnavailable(f"the cluster's workers loaded different models: {sorted(ids)}")
        self.model_id = ids.pop()
        self.dim = int(ray.get(self.workers[0].embed.remote(["dimension probe"])).shape[1])
        self._plan = _Plan(tier, cluster.gpus > 0)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Texts cut into tasks handed round-robin to the actors, along the order and at the batch
        boundaries the local embedder would use, so every row is the one a local call gives."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order, unit = self._plan.order(texts), self._plan.unit
        size = min(TEXTS_PER_TASK, -(-len(texts) // len(self.workers)))  # every actor gets a piece
        size = -(-size // unit) * unit
        pieces = [order[i : i + size] for i in range(0, len(order), size)]
        refs = []
        for piece in pieces:  # the turn carries over calls, so small batches reach every actor too
            refs.append(self.workers[self._turn % len(self.workers)].embed.remote([texts[i] for i in piece]))
            self._turn += 1
        for piece, rows in zip(pieces, self._ray.get(refs), strict=True):
            out[piece] = rows
        return out

    def close(self) -> None:
        """Let the actors go (the cluster keeps running)."""
        for worker in self.workers:
            self._ray.kill(worker)

    def batch_hint(self) -> int:
        """How many texts `update_index` should hand over at once: as many as a local run takes, so
        the rows are the local ones (see _Plan); more would regroup the quality tier's runs."""
        from .index import BATCH

        return BATCH


def index_on_ray(
    lib: Any, tier: Tier, cluster: Cluster, progress: Progress | None = None
) -> dict[str, object]:
    """`paperradar index --ray` for one tier: `index.refresh_index` with the cluster's embedder
    (handed `batch_hint()` texts at a time, so every actor has work)."""
    from .index import refresh_index

    embedder = RayEmbedder(tier, cluster)
    try:
        return {**refresh_index(lib, embedder, progress, batch=embedder.batch_hint()), "ray": cluster.address}
    finally:
        disconnect()


# ---------------------------------------------------------------- parsing


def line_shards(source: Source, lines: int = SHARD_LINES) -> Iterator[tuple[int, bytes]]:
    """(number of the shard's first line, its bytes): whole lines, read streaming (compressed
    sources are decompressed here, within the source's limits)."""
    with source.open_binary() as f:
        first, buf, count = 1, bytearray(), 0
        for line in f:
            buf += line
            count += 1
            if count == lines:
                yield first, bytes(buf)
                first, buf, count = first + count, bytearray(), 0
        if buf:
            yield first, bytes(buf)


def parse_shard(name: str, path: str, first: int, data: bytes, stamp: str | None = None) -> list[Chunk]:
    """One shard parsed and prepared (run on a worker); lines renumbered to the whole file's;
    `stamp` is the import's time (`Source.stamp`)."""
    from .ingest import parsed_chunks

    shift = first - 1
    out = []
    shard = Source.from_bytes(data, path)
    shard.stamp = stamp
    for prepared, errors in parsed_chunks(name, shard, None):
        out.append(([p.moved(shift) for p in prepared], [_shifted(e, shift) for e in errors]))
    return out


def _shifted(error: ParseError, shift: int) -> ParseError:
    return ParseError(error.source, error.line + shift if error.line else error.line, error.reason)


class ParseWorker:
    """One actor: parses and prepares shards, one after another; the importers are loaded once,
    when it starts, not by its first shard."""

    def __init__(self) -> None:
        from . import ingest  # noqa: F401

    def ready(self) -> int:
        return os.getpid()

    def parse(self, name: str, path: str, first: int, data: bytes, stamp: str | None) -> list[Chunk]:
        return parse_shard(name, path, first, data, stamp)


class ShardParsers:
    """`cluster.workers` parsing actors, each running one shard at a time with the next one
    queued (no wait between shards, and `--ray-workers 1` uses one CPU of the cluster, not more)."""

    QUEUED = 2  # shards handed to an actor and not yet parsed (the one running, the next)

    def __init__(self, cluster: Cluster):
        self._ray = ray = connect(cluster)
        actor = ray.remote(ParseWorker).options(
            num_cpus=cluster.threads, max_restarts=RETRIES, max_task_retries=RETRIES
        )
        self.actors = [actor.remote() for _ in range(cluster.workers)]
        ray.get([a.ready.remote() for a in self.actors])  # started, importers loaded
        self.shard_lines = cluster.shard_lines

    def chunks(self, name: str, source: Source) -> Iterator[Chunk]:
        """The prepared chunks of `source`, in file order. Shards go to the actor with the fewest
        in hand; at most `QUEUED + 1` a worker are held here, parsed or not, so memory stays bounded."""
        ray, size = self._ray, len(self.actors)
        shards = line_shards(replace(source, issues=[]), self.shard_lines)
        held: deque[Any] = deque()  # every shard handed out and not yet yielded, in file order
        parsing: dict[Any, int] = {}  # those not parsed yet -> their actor
        load = [0] * size
        while True:
            while len(held) < (self.QUEUED + 1) * size and min(load) < self.QUEUED:
                shard = next(shards, None)
                if shard is None:
                    break
                i = load.index(min(load))
                held.append(self.actors[i].parse.remote(name, source.path, *shard, source.stamp))
                parsing[held[-1]], load[i] = i, load[i] + 1
            if not held:
                return
            if held[0] in parsing:
                for ref in ray.wait(list(parsing), num_returns=1)[0]:
                    load[parsing.pop(ref)] -= 1
                continue
            yield from _fetched(ray, held.popleft())

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)


def _fetched(ray: Any, ref: Any) -> list[Chunk]:
    """A parsed shard brought here. Its records are plain data without reference cycles, so the
    cyclic garbage collector is paused while they are unpickled: otherwise it walks this process's
    whole heap again and again as the new objects pile up, and unpickling costs 4-5x more (this
    process then takes a core from the workers)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        return list(ray.get(ref))
    finally:
        if was_on:
            gc.enable()


def ray_chunks(
    name: str, source: Source, column_map: dict[str, str] | None, cluster: Cluster
) -> Iterator[Chunk]:
    """The prepared chunks of `source`, parsed shard by shard on the cluster (`ShardParsers`), in
    file order: the same chunks `ingest.parsed_chunks` gives."""
    if column_map:
        raise InvalidInput("--map applies to tabular files, which --ray does not parse")
    if name not in LINE_FORMATS:
        raise InvalidInput(f"--ray parses record-per-line formats ({', '.join(LINE_FORMATS)}), not {name}")
    parsers = ShardParsers(cluster)
    try:
        yield from parsers.chunks(name, source)
    finally:
        parsers.close()
