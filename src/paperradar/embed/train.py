"""Training the fast tier to imitate the quality tier (the tokenlearn / "potion" idea, without torch).

Contextual averaging: the teacher (MiniLM) embeds a text as the mean of its tokens' last hidden
states. Run it over a corpus and give each vocabulary token the mean of its states across all its
occurrences, shrunk toward its state when alone (`[CLS] t [SEP]`) by PRIOR_WEIGHT occurrences; a
token the corpus never shows keeps its state alone. The fast tier's mean of those rows over a text's
tokens is then the teacher's mean less only what the context changed. One teacher pass gives a
target for every token read (~200 per abstract), where tokenlearn fits one target per text.
Then each row is scaled by its SIF weight `a / (a + p(token))` (Arora et al. 2017; model2vec weights
its rows the same way), p the token's share of all tokens the teacher read: a text's vector leans
on its rare words. Folded into the rows, so a text's vector is still the mean of its tokens' rows.
The table lives in the teacher's own 384-d space, so a fast vector and a quality vector of the same
paper can be compared (index.MixedIndex).

tokenlearn itself needs `model2vec[distill]`, which pins transformers<5.4 (we have 5.23), and
torch at training time; this needs only numpy and scipy, so `paperradar models tune` runs without
torch. Tried and dropped: refitting the table to the teacher's text vectors by ridge least
squares (tokenlearn's objective) raised the held-out cosine to the teacher (0.70 -> 0.84 at 2,000
texts) but not retrieval, so it is not part of the recipe; so did per-token weights fitted the same
way, and centring, removing the top principal component, PCA and whitening lowered CSFCube's dev
queries and the agreement (bench/fast_tier_variants.py, docs/evaluation.md).
Whole words (model2vec/tokenlearn's custom vocabulary; `build --words`, tune.WHOLE_WORDS, not yet
the default): a word that WordPiece splits into several pieces, and that the corpus shows at least
WORD_MIN_COUNT times, gets its own row, the mean over its occurrences of its pieces' mean state (so
in context), weighted by its number of pieces^0.75; it is appended to the WordPiece vocabulary,
which then reads it as one token (longest match first) and falls back to pieces for any other word.
The fast tier's run time is unchanged (static.py).
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..errors import InvalidInput

PRIOR_WEIGHT = 1.0  # occurrences' worth of trust in a token's state when alone (set on held-out texts)
# SIF's a: best of a grid on 1,000 held-out arXiv papers (agreement, overlap with the teacher's
# nearest neighbours) and on CSFCube fold 1's dev queries (docs/evaluation.md)
SIF_A = 3e-3
MAX_TOKENS = 512  # as the fast tier reads a text (static.py)
# whole words: the occurrences a split word needs for a row of its own, and the power of its number
# of pieces its row is multiplied by; best of a grid on held-out arXiv papers (bench/fast_vocab.py)
WORD_MIN_COUNT = 3
WORD_WEIGHT = 0.75


def token_shares(token_ids: Sequence[Sequence[int]], vocab_size: int) -> sparse.csr_matrix:
    """A: one row per text, the share of each token in it (rows of texts without tokens are zero)."""
    rows = np.repeat(np.arange(len(token_ids)), [min(len(t), MAX_TOKENS) for t in token_ids])
    cols = np.concatenate(
        [np.asarray(t[:MAX_TOKENS], dtype=np.int64) for t in token_ids] or [np.zeros(0, dtype=np.int64)]
    )
    counts = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float64), (rows, cols.astype(np.int64))),
        shape=(len(token_ids), vocab_size),
    )
    counts.sum_duplicates()
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    return sparse.diags(1.0 / np.maximum(lengths, 1.0)) @ counts


def agreement(shares: sparse.csr_matrix, table: np.ndarray, targets: np.ndarray) -> float:
    """Mean cosine between the fast tier's vectors (A E, normalised) and the teacher's."""
    got = np.asarray(shares @ table, dtype=np.float64)
    got /= np.maximum(np.linalg.norm(got, axis=1, keepdims=True), 1e-12)
    want = targets / np.maximum(np.linalg.norm(targets, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.einsum("ij,ij->i", got, want)))


@dataclass
class Contexts:
    """Sums and counts of the teacher's token states per vocabulary id, over a corpus."""

    sums: np.ndarray  # (vocabulary, dims) float64
    counts: np.ndarray  # (vocabulary,) float64
    texts: int = 0

    @classmethod
    def empty(cls, vocab_size: int, dims: int) -> Contexts:
        return cls(np.zeros((vocab_size, dims)), np.zeros(vocab_size))

    def add(self, ids: Sequence[int], states: np.ndarray) -> None:
        """One text: its token ids (with [CLS] first and [SEP] last, which are not counted)."""
        inner = np.asarray(ids[1:-1], dtype=np.int64)
        np.add.at(self.sums, inner, states[1:-1])
        np.add.at(self.counts, inner, 1.0)
        self.texts += 1


def context_table(contexts: Contexts, alone: np.ndarray, prior_weight: float = PRIOR_WEIGHT) -> np.ndarray:
    """Each token's mean state in context, shrunk toward its state alone (all it has if unseen)."""
    weight = contexts.counts + prior_weight
    table = (contexts.sums + prior_weight * alone.astype(np.float64)) / weight[:, None]
    return table.astype(np.float32)


def sif_weights(counts: np.ndarray, a: float = SIF_A) -> np.ndarray:
    """Each token's SIF weight a / (a + p), p its share of the tokens counted (1.0 where unseen)."""
    total = float(counts.sum())
    shares = counts / total if total > 0 else np.zeros_like(counts, dtype=np.float64)
    return a / (a + shares)


def weight_rows(table: np.ndarray, counts: np.ndarray, a: float = SIF_A) -> np.ndarray:
    """The table with every row scaled by its token's SIF weight (a text's vector leans on rare tokens)."""
    return (table * sif_weights(counts, a)[:, None]).astype(np.float32)


@dataclass
class Words:
    """Per word that WordPiece splits (a first piece, then `##` pieces): the sum over its occurrences
    of its pieces' mean state, its count and its piece ids."""

    sums: dict[str, np.ndarray]
    counts: dict[str, int]
    pieces: dict[str, tuple[int, ...]]

    @classmethod
    def empty(cls) -> Words:
        return cls({}, {}, {})

    def add(self, ids: Sequence[int], states: np.ndarray, names: Sequence[str]) -> None:
        """One text: its token ids ([CLS] first, [SEP] last) and `names`, the token of each id."""
        end = len(ids) - 1
        start = 1
        while start < end:
            stop = start + 1
            while stop < end and names[ids[stop]].startswith("##"):
                stop += 1
            if stop - start >= 2:
                run = tuple(int(i) for i in ids[start:stop])
                word = "".join(names[i].removeprefix("##") for i in run)
                if word in self.sums:
                    self.sums[word] += states[start:stop].mean(axis=0)
                    self.counts[word] += 1
                else:
                    self.sums[word] = states[start:stop].astype(np.float64).mean(axis=0)
                    self.counts[word] = 1
                    self.pieces[word] = run
            start = stop


def word_rows(
    words: Words,
    pieces: np.ndarray,
    min_count: int = WORD_MIN_COUNT,
    prior_weight: float = PRIOR_WEIGHT,
    weight: float = WORD_WEIGHT,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The words seen at least min_count times (sorted), their rows and counts. A word's row is its
    mean state in context, shrunk toward the mean of its pieces' rows (`pieces`, the context table),
    times its number of pieces to the power `weight`: its pieces had that many shares of the
    teacher's mean over a text's tokens (a text's vector is a normalised mean, so a row's length is
    its weight); 0.75 did better than 1 on held-out texts."""
    chosen = sorted(w for w, c in words.counts.items() if c >= min_count and "[UNK]" not in w)
    counts = np.array([words.counts[w] for w in chosen], dtype=np.float64)
    rows = np.zeros((len(chosen), pieces.shape[1]), dtype=np.float32)
    for row, w in enumerate(chosen):
        prior = pieces[list(words.pieces[w])].astype(np.float64).mean(axis=0)
        mean = (words.sums[w] + prior_weight * prior) / (words.counts[w] + prior_weight)
        rows[row] = len(words.pieces[w]) ** weight * mean
    return chosen, rows, counts


def with_words(tokenizer_json: str, words: Sequence[str]) -> str:
    """The tokenizer's JSON with `words` appended to its WordPiece vocabulary (ids from its size on).
    WordPiece matches the longest vocabulary entry from a word's start, so a word in the list is read
    whole and any other word falls back to pieces as before."""
    import json

    spec = json.loads(tokenizer_json)
    vocab: dict[str, int] = spec["model"]["vocab"]
    for w in words:
        if w in vocab:
            raise InvalidInput(f"{w!r} is in the vocabulary already: only split words get their own row")
        vocab[w] = len(vocab)
    return json.dumps(spec, ensure_ascii=False, indent=2) + "\n"
