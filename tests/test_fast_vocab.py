"""The fast tier's whole-word vocabulary (train.Words, word_rows, with_words; tune writes it): a split
word seen often enough gets its own row, read whole by the fast tier's tokenizer; any other word
falls back to its WordPiece pieces; the same texts give the same files. The teacher is the real
quality tier built by `make models`."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from paperradar.embed import build, models_dir
from paperradar.embed.static import StaticEmbedder
from paperradar.embed.train import WORD_MIN_COUNT, Words, with_words, word_rows
from paperradar.errors import InvalidInput

# "interpretability" is split by WordPiece (interpret ##ability) and appears in every text;
# "galore" (gal ##ore) appears once in all: too rare for a row of its own
TEXTS = [
    f"Interpretability of model {n}: we study the interpretability of attention heads in layer {n}."
    for n in range(2 * WORD_MIN_COUNT)
] + ["GaLore projects gradients to a low-rank subspace to save optimizer memory."]


def _base() -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(models_dir() / "onnx" / "tokenizer.json"))
    tokenizer.no_padding()
    return tokenizer


def test_words_group_pieces_and_rows_shrink_toward_their_pieces():
    names = ["[CLS]", "[SEP]", "interpret", "##ability", "of", "gal", "##ore"]
    states = np.arange(7 * 2, dtype=np.float32).reshape(7, 2)  # one row per position of `ids`
    ids = [0, 2, 3, 4, 5, 6, 1]  # [CLS] interpret ##ability of gal ##ore [SEP]
    words = Words.empty()
    words.add(ids, states, names)
    words.add(ids, states, names)
    assert words.counts == {"interpretability": 2, "galore": 2}  # "of" is one piece: no word row
    assert words.pieces["interpretability"] == (2, 3)
    pieces = np.ones((7, 2), dtype=np.float32)
    chosen, rows, counts = word_rows(words, pieces, min_count=2, prior_weight=1.0, weight=0.75)
    assert chosen == ["galore", "interpretability"] and counts.tolist() == [2.0, 2.0]
    # interpretability: positions 1-2 mean (3, 4), twice, plus the pieces' mean (1, 1) once, over 3,
    # times its 2 pieces to the power 0.75 (their weight in the teacher's mean, damped)
    assert np.allclose(rows[1], [2**0.75 * (2 * 3 + 1) / 3, 2**0.75 * (2 * 4 + 1) / 3])
    assert word_rows(words, pieces, min_count=3)[0] == []


def test_with_words_appends_whole_words_after_the_wordpiece_ids():
    text = (models_dir() / "onnx" / "tokenizer.json").read_text(encoding="utf-8")
    tokenizer = Tokenizer.from_str(with_words(text, ["interpretability"]))
    tokenizer.no_padding()  # the file pads to 128, as the model's own does; the fast tier does not pad
    size = _base().get_vocab_size()
    assert tokenizer.encode("interpretability", add_special_tokens=False).ids == [size]
    assert tokenizer.encode("galore", add_special_tokens=False).tokens == ["gal", "##ore"]
    with pytest.raises(InvalidInput, match="'model' is in the vocabulary"):
        with_words(text, ["model"])


@pytest.fixture(scope="module")
def tuned(tmp_path_factory) -> list[Path]:
    """Two fast tiers with words tuned on the same texts, then one without, each in a copy of
    models/ (the quality tier linked)."""
    root = models_dir()
    if not (root / "manifest.json").is_file():
        pytest.fail(f"no models in {root}: run `make models`")
    from paperradar.embed import load_embedder
    from paperradar.embed.tune import tune

    teacher = load_embedder("quality")
    out = []
    for name, words in (("a", True), ("b", True), ("plain", False)):
        folder = tmp_path_factory.mktemp(name)
        (folder / "onnx").symlink_to(root / "onnx")
        shutil.copytree(root / "static", folder / "static")
        shutil.copyfile(root / "manifest.json", folder / "manifest.json")
        tune(folder, teacher, "tiny", TEXTS, words=words)
        out.append(folder)
    # tuning without words over a tier that has them gives the teacher's tokenizer back
    tune(out[2], teacher, "tiny", TEXTS, words=True)
    tune(out[2], teacher, "tiny", TEXTS, words=False)
    return out


def test_tune_writes_the_words_deterministically(tuned):
    a, b, _ = tuned
    for name in ("static/embeddings.safetensors", "static/tokenizer.json"):
        assert build.sha256(a / name) == build.sha256(b / name)
    manifest = json.loads((a / "manifest.json").read_text())
    record = manifest["fast_tier"]
    assert record["words"] == 1 and record["word_min_count"] == WORD_MIN_COUNT
    assert record["vocabulary_sha256"] == hashlib.sha256(b"interpretability\n").hexdigest()
    assert manifest["files"]["static/tokenizer.json"] == build.sha256(a / "static" / "tokenizer.json")


def test_without_words_the_tier_is_the_wordpiece_table_and_tokenizer(tuned):
    from safetensors.numpy import load_file

    plain = tuned[2]
    assert build.sha256(plain / "static" / "tokenizer.json") == build.sha256(
        plain / "onnx" / "tokenizer.json"
    )
    table = load_file(str(plain / "static" / "embeddings.safetensors"))["embeddings"]
    assert table.shape == (_base().get_vocab_size(), 384)
    record = json.loads((plain / "manifest.json").read_text())["fast_tier"]
    assert record["words"] == 0 and record["word_min_count"] is None


def test_a_known_word_reads_its_row_and_an_unknown_word_its_pieces(tuned):
    from safetensors.numpy import load_file

    folder = tuned[0] / "static"
    table = load_file(str(folder / "embeddings.safetensors"))["embeddings"].astype(np.float32)
    size = _base().get_vocab_size()
    assert table.shape == (size + 1, 384)
    fast = StaticEmbedder(folder, "test")
    word, rare = fast.embed_batch(["Interpretability", "GaLore"])
    assert np.allclose(word, table[size] / np.linalg.norm(table[size]), atol=1e-6)
    pieces = _base().encode("galore", add_special_tokens=False).ids
    assert len(pieces) == 2 and max(pieces) < size  # gal ##ore, both WordPiece ids
    mean = table[pieces].mean(axis=0)
    assert np.allclose(rare, mean / np.linalg.norm(mean), atol=1e-6)
