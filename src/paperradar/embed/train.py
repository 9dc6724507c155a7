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
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

PRIOR_WEIGHT = 1.0  # occurrences' worth of trust in a token's state when alone (set on held-out texts)
# SIF's a: best of a grid on 1,000 held-out arXiv papers (agreement, overlap with the teacher's
# nearest neighbours) and on CSFCube fold 1's dev queries (docs/evaluation.md)
SIF_A = 3e-3
MAX_TOKENS = 512  # as the fast tier reads a text (static.py)


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
