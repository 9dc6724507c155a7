"""Embedders: text in, unit vectors out. Two tiers of the same model (all-MiniLM-L6-v2):

- "quality": the transformer as int8 ONNX, run by onnxruntime (`onnx.py`, ~40 abstracts/s on 2 cores);
- "fast": a static table trained to imitate it, one vector per token, in the same 384-d space
  (`static.py`, thousands/s; `train.py`, `tune.py`).

Both are built once by `python -m paperradar.embed.build` (`make models`), which needs torch;
`paperradar models tune` re-trains the fast tier on a library without torch. Run time needs only
numpy, scipy, tokenizers, onnxruntime and safetensors. Loading reads model files (I/O).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from ..errors import BackendUnavailable, InvalidInput

Tier = Literal["fast", "quality"]
TIERS: tuple[Tier, ...] = ("fast", "quality")
# Sub-folders of models_dir() that build.py writes, one per tier.
TIER_DIRS: dict[Tier, str] = {"quality": "onnx", "fast": "static"}
MANIFEST = "manifest.json"


class Embedder(Protocol):
    """Turns texts into float32 rows of unit length (an empty text may give a zero row)."""

    model_id: str  # stable; changes whenever the model files change
    dim: int

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...


def text_for(title: str | None, abstract: str | None) -> str:
    """The text of a paper that is embedded: "title. abstract", or whichever of the two exists."""
    title = (title or "").strip()
    abstract = (abstract or "").strip()
    if title and abstract:
        sep = " " if title[-1] in ".?!" else ". "
        return title + sep + abstract
    return title or abstract


def models_dir() -> Path:
    """Where built models live: the models setting ($PAPERRADAR_MODELS), else <checkout>/models, else <data dir>/models.

    A deep read by design (tests/test_settings.py DEEP_READS): every embedder load (search, index,
    topics, similar, the web's warm-up), embed/build.py and the tests find the models through
    this one function, so it reads the setting itself rather than have it threaded through them."""
    from ..config import load_settings

    settings = load_settings()
    if settings.models is not None:
        return settings.models
    checkout = Path(__file__).resolve().parents[3] / "models"
    if checkout.is_dir():
        return checkout
    return settings.data_dir / "models"


def tier_files(tier: Tier, root: Path | None = None) -> tuple[Path, str]:
    """The folder of a tier's files and a short hash of them (from the manifest build.py wrote)."""
    root = root if root is not None else models_dir()
    folder = root / TIER_DIRS[tier]
    manifest = root / MANIFEST
    if not manifest.is_file() or not folder.is_dir():
        raise BackendUnavailable(
            f"the {tier} embedding model is not built (looked in {root}): run `make models` "
            "(or `python -m paperradar.embed.build --out DIR` with torch installed, then set PAPERRADAR_MODELS=DIR)"
        )
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    prefix = TIER_DIRS[tier] + "/"
    lines = "".join(f"{name} {sha}\n" for name, sha in sorted(files.items()) if name.startswith(prefix))
    return folder, hashlib.sha256(lines.encode()).hexdigest()[:12]


def fast_agreement(root: Path | None = None) -> float:
    """The mean cosine between the fast and the quality tier's vectors of the same texts, measured
    on held-out training texts when the fast tier was trained (manifest.json); 1.0 when unknown."""
    manifest = (root if root is not None else models_dir()) / MANIFEST
    if not manifest.is_file():
        return 1.0
    value = json.loads(manifest.read_text(encoding="utf-8")).get("fast_tier", {}).get("agreement")
    return float(value) if value else 1.0


def load_embedder(tier: Tier, providers: list[str] | None = None) -> Embedder:
    """The embedder of a tier. `providers` (quality tier only) picks onnxruntime execution providers,
    e.g. ["CUDAExecutionProvider"]; the default is the CPU. Loaded once per process (and again only
    when the model files change)."""
    if tier not in TIERS:
        raise InvalidInput(f"unknown tier {tier!r}; expected one of {TIERS}")
    folder, digest = tier_files(tier)
    return _load(tier, str(folder), digest, tuple(providers or ()))


@functools.lru_cache(maxsize=8)
def _load(tier: Tier, folder: str, digest: str, providers: tuple[str, ...]) -> Embedder:
    if tier == "fast":
        from .static import StaticEmbedder

        return StaticEmbedder(Path(folder), digest)
    try:
        from .onnx import OnnxEmbedder
    except ImportError as e:
        raise BackendUnavailable(f"the quality tier needs onnxruntime: {e}") from e
    return OnnxEmbedder(Path(folder), digest, providers=list(providers) or None)


def normalize_rows(m: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero."""
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
