"""`paperradar index` (build or update embeddings, upgrading papers to the quality tier; resumable)
and `paperradar similar ID [--facet background|method|result]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape

from .. import index as idx
from .. import papers as svc
from ..embed import TIERS
from ..errors import BackendUnavailable, InvalidInput
from ..facets import FACETS
from ..search import refresh_keyword_lists
from ..similar import similar_to
from . import JsonFlag, app, display_title, library, out, print_json, progress_bar
from .cluster_opts import RayAddress, RayGpus, RayThreads, RayWorkers, make_cluster

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..embed import Embedder, Tier
    from ..models import Paper
    from ..storage import Library


def _embedder(tier: str) -> Embedder:
    if tier not in TIERS:
        raise InvalidInput(f"--tier must be one of {', '.join(TIERS)}, not {tier!r}")
    try:
        from ..embed import Tier, load_embedder
    except ImportError as e:  # a checkout without the embedding code
        raise BackendUnavailable(f"embeddings are not available: {e}") from e
    return load_embedder(cast(Tier, tier))  # checked against TIERS above


@app.command("index")
def index_cmd(
    tier: Annotated[
        list[str] | None, typer.Option("--tier", help="fast (static, ~2,000/s) and/or quality (MiniLM int8).")
    ] = None,
    ray: RayAddress = None,
    ray_workers: RayWorkers = 2,
    ray_threads: RayThreads = 1,
    ray_gpus: RayGpus = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """Build or update the embeddings behind semantic search and similar papers (only new or changed text).
    With --ray the embedding runs on a Ray cluster; the vectors are the same as local ones. A library of
    200,000 papers or more also gets its keyword index (Tantivy, <library>.tantivy/), which keyword search ranks with."""
    cluster = make_cluster(ray, ray_workers, ray_threads, ray_gpus)
    with library() as lib:
        reports = [_index_tier(lib, name, cluster) for name in tier or list(TIERS)]
        build_ranking_features(lib)
        with progress_bar("keyword index") as progress:
            refresh_keyword_lists(lib, progress)
    if as_json:
        print_json(reports)
        return
    for r in reports:
        out.print(
            f"{r['model']}: embedded {r['embedded']:,}, unchanged {r['unchanged']:,} ({r['seconds']} s)"
            + (f"; ANN index {r['ann']} ({r['ann_seconds']} s)" if r["ann"] != "none" else "")
        )


def build_ranking_features(lib: Library) -> dict[str, object]:
    """Bring the ranking features up to date (after import, index, sync), so that `recommend`,
    digests and the web app never build them while someone waits (rank/ready.py)."""
    from ..rank.features import build_features

    with progress_bar("building the ranking features") as progress:
        return build_features(lib, progress)


def _index_tier(lib: Library, name: str, cluster: Cluster | None = None) -> dict[str, object]:
    if name not in TIERS:
        raise InvalidInput(f"--tier must be one of {', '.join(TIERS)}, not {name!r}")
    with progress_bar(f"embedding ({name})") as progress:
        if cluster is not None:
            from ..cluster import index_on_ray

            return index_on_ray(lib, cast("Tier", name), cluster, progress)
        return idx.refresh_index(lib, _embedder(name), progress)  # the cluster's workers load their own


@app.command("similar")
def similar_cmd(
    paper_id: Annotated[str, typer.Argument(help="Any id of the paper.")],
    limit: Annotated[int, typer.Option(help="How many papers.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, lexical or dense.")] = "hybrid",
    facet: Annotated[
        str | None,
        typer.Option(help="background, method or result: similar in that respect (sentence by sentence)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Papers similar to one paper, each with why it was found."""
    if mode not in ("hybrid", "lexical", "dense"):
        raise InvalidInput(f"--mode must be hybrid, lexical or dense, not {mode!r}")
    if facet is not None and facet not in FACETS:
        raise InvalidInput(f"--facet must be one of {', '.join(FACETS)}, not {facet!r}")
    with library() as lib:
        pk = lib.resolve(paper_id)
        found_index = idx.best_index(lib) if mode != "lexical" else None
        index = found_index[0] if found_index else None
        if mode == "dense" and index is None:
            raise BackendUnavailable("no embeddings yet: run `paperradar index`")
        hits = similar_to(lib, pk, limit=limit, index=index, mode=mode, facet=facet)
        found = [(h, svc.load_paper(lib, h.pk, with_sources=False)) for h in hits]
    if as_json:
        print_json([{**_brief(p), "score": round(h.score, 6), "reasons": h.reasons} for h, p in found])
        return
    for n, (h, p) in enumerate(found, start=1):
        out.print(
            f"{n:>2}. [bold]{display_title(p)}[/bold]  [dim]{escape(p.id)}[/dim]",
            highlight=False,
        )
        out.print("    " + escape("; ".join(h.reasons)), style="green", highlight=False)


def _brief(p: Paper) -> dict[str, Any]:
    data = svc.paper_json(p, with_sources=False)
    return {k: data[k] for k in ("id", "ids", "title", "authors", "categories", "dates")}
