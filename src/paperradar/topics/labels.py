"""Readable topic labels: class-based TF-IDF over unigrams and bigrams. Pure (numpy, scikit-learn).

Each document (title + abstract) counts a phrase once. A phrase scores high for a topic when a large
share of the topic's papers use it and few papers elsewhere do:
`score = (papers of the topic with it / topic size) * log(1 + all papers / papers with it)`.
Phrases made of academic boilerplate ("proposed method", "results show") are never labels; a
unigram already inside a chosen bigram, and a plural twin of a chosen phrase, are dropped; two
bigrams that chain ("large language" + "language models") and are used by about the same papers
become one phrase ("large language models").
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse

from ..stopwords import DOMAIN, ENGLISH

BOILERPLATE = DOMAIN  # research-paper boilerplate: stopwords.DOMAIN, the one list
TOKEN = r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"
LABEL_PHRASES = 3
MIN_SHARE = 0.04  # a label phrase is used by at least 4% of the topic's papers
ACRONYM = re.compile(r"\s*\((?:[A-Za-z][A-Za-z0-9\-]{1,9})\)")  # "models (LLMs)": the acronym repeats


def vectorize(texts: list[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(binary document-phrase matrix, vocabulary array) over unigrams and bigrams."""
    from sklearn.feature_extraction.text import CountVectorizer

    min_df = 3 if len(texts) >= 2000 else 1
    vec = CountVectorizer(
        binary=True,
        ngram_range=(1, 2),
        stop_words=sorted(ENGLISH),  # scikit-learn's English list (stopwords.ENGLISH)
        token_pattern=TOKEN,
        min_df=min_df,
        max_df=0.5 if len(texts) >= 50 else 1.0,
        dtype=np.float32,
    )
    x = vec.fit_transform(ACRONYM.sub("", t) for t in texts)
    return x.tocsr(), np.asarray(vec.get_feature_names_out())


def class_counts(x: sparse.csr_matrix, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Papers per class that use each phrase (n_classes x vocabulary), dense float32."""
    onehot = sparse.csr_matrix(
        (np.ones(len(labels), dtype=np.float32), (labels, np.arange(len(labels)))),
        shape=(n_classes, len(labels)),
    )
    return np.asarray((onehot @ x).todense(), dtype=np.float32)


def ctfidf(counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Class-based TF-IDF in its distinctive form: the share of the class using a phrase times the
    log of how much more often the class uses it than the whole library does (a phrase everyone
    uses scores near 0 however common it is in the class)."""
    share = counts / np.maximum(sizes[:, None], 1)
    overall = counts.sum(axis=0) / max(float(sizes.sum()), 1.0)
    lift = np.log(np.maximum(share, 1e-9) / np.maximum(overall, 1e-9)[None, :])
    return np.where((share >= MIN_SHARE) & (lift > 0), share * lift, 0.0)


def label_topics(counts: np.ndarray, sizes: np.ndarray, vocab: np.ndarray, keep: int = 8) -> list[list[str]]:
    """The best readable phrases of each class, best first."""
    scores = ctfidf(counts, sizes)
    usable = np.array([_usable(v) for v in vocab])
    bigram = np.char.count(vocab.astype(str), " ") > 0
    scores = np.where(usable[None, :], scores * np.where(bigram, 1.3, 1.0)[None, :], 0.0)
    out = []
    for c in range(len(counts)):
        top = np.argsort(-scores[c])[: keep * 6]
        ranked = [(str(vocab[i]), float(counts[c, i])) for i in top if scores[c, i] > 0]
        out.append(_readable(ranked, keep))
    return out


def _usable(phrase: str) -> bool:
    words = phrase.split()
    if any(len(w) < 2 or w.isdigit() or "http" in w or w.startswith("href") for w in words):
        return False
    if len(words) == 1:
        return words[0] not in BOILERPLATE and len(words[0]) > 2
    return not all(w in BOILERPLATE for w in words) and words[0] != words[1]


def _readable(ranked: list[tuple[str, float]], keep: int) -> list[str]:
    """Chain overlapping bigrams, drop unigrams inside chosen phrases and plural twins."""
    chosen: list[tuple[str, float]] = []
    for phrase, df in ranked:
        merged = False
        for i, (have, have_df) in enumerate(chosen):
            joined = _chain(have, phrase) if min(df, have_df) >= 0.8 * max(df, have_df) else None
            if joined:
                chosen[i] = (joined, min(df, have_df))
                merged = True
                break
        if merged or any(_covers(have, phrase) for have, _ in chosen):
            continue
        chosen = [(h, d) for h, d in chosen if not _covers(phrase, h)]
        chosen.append((phrase, df))
        if len(chosen) >= keep:
            break
    return [p for p, _ in chosen]


def _chain(a: str, b: str) -> str | None:
    """'large language' + 'language models' -> 'large language models' (either order)."""
    wa, wb = a.split(), b.split()
    if len(wa) < 2 or len(wb) != 2:
        return None
    if wa[-1] == wb[0] and wb[1] not in wa:
        return " ".join([*wa, wb[1]])
    if wb[1] == wa[0] and wb[0] not in wa:
        return " ".join([wb[0], *wa])
    return None


def _covers(have: str, phrase: str) -> bool:
    """Whether `have` already says `phrase` (contains its words, or is its plural/singular twin)."""
    hw = {_singular(w) for w in have.split()}
    return all(_singular(w) in hw for w in phrase.split())


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def label_of(terms: list[str]) -> str:
    return ", ".join(terms[:LABEL_PHRASES]) if terms else "(unlabelled)"
