"""The key sentences of an abstract: the one that states the paper's idea and the one that states
its result. Extractive and offline: the abstract is split into sentences, each described by a few
dozen features (its position, its length, cue phrases such as "we propose" or "outperforms",
numbers), and a small linear model per kind scores them; the best-scoring sentence wins.

The weights live in `highlights_model.json` beside this module, written by
`bench/eval_highlights.py --write-model` (logistic regression, deterministic); reading them needs
only the standard library. Pure functions apart from reading that file once. No I/O otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_FILE = Path(__file__).resolve().parent / "highlights_model.json"
KINDS = ("idea", "result")

# abbreviations after which a period does not end a sentence
_ABBREV = r"(?<!\be\.g)(?<!\bi\.e)(?<!\bet al)(?<!\bvs)(?<!\bcf)(?<!\bFig)(?<!\bEq)(?<!\betc)(?<!\bapprox)"
_SPLIT = re.compile(_ABBREV + r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")

# cue-phrase groups: name -> pattern (case-insensitive, on the sentence)
CUES: dict[str, str] = {
    "we_propose": r"\bwe (propose|present|introduce|develop|design|describe|formulate|devise|build)\b",
    "this_paper": r"\b(this|the present) (paper|work|article|study|letter|note)\b|\bin this (paper|work)\b",
    "our_method": r"\bour (method|approach|model|framework|system|algorithm|technique|idea|key)\b",
    "novel": r"\b(novel|new|first)\b",
    "called": r"\b(called|named|dubbed|termed)\b|\(\s?[A-Z][A-Za-z0-9-]+\s?\)",
    "based_on": r"\b(based on|by (using|leveraging|combining|learning|introducing)|leverag|which (uses|learns))",
    "key_idea": r"\b(key (idea|insight)|main idea|core idea|idea is|insight is)\b",
    "we_show": r"\bwe (show|demonstrate|find|observe|prove|report|establish)\b",
    "results_show": r"\b(results|experiments|evaluations?|analysis|studies) (show|demonstrate|indicate|reveal|suggest|confirm)",
    "outperform": r"\b(outperform\w*|surpass\w*|state[- ]of[- ]the[- ]art|sota|beats?|superior)\b",
    "improve": r"\b(improv\w*|achiev\w*|gains?|boost\w*|reduc\w*|speed-?ups?|better|faster)\b",
    "experiments": r"\b(experiment\w*|benchmark\w*|datasets?|empirical\w*|evaluat\w*)\b",
    "number": r"\d+(\.\d+)?\s?(%|x\b|×|times\b|points?\b)",
    "digit": r"\d",
    "compared": r"\b(compared (to|with)|than|over (the )?(baseline|prior|previous|existing))\b",
    "code": r"\b(code|github|available at|https?://|project page|website)\b",
    "problem": r"\b(however|challenge\w*|problem\w*|limitation\w*|suffer\w*|difficult\w*|remains?|lack\w*)\b",
    "background": r"\b(recent(ly)?|has (been|become)|have (been|become)|is (a|an) (important|fundamental|key|popular))\b",
    "future": r"\b(future work|we (hope|believe|expect)|open question)\b",
    "finally": r"^(finally|moreover|furthermore|additionally|in addition|also)\b",
    "first_step": r"^(first|second|third|specifically|concretely|to this end|to address|to tackle|to solve)\b",
    "we": r"\bwe\b",
    "can": r"\b(can|enables?|allows?)\b",
    "significantly": r"\b(significant\w*|substantial\w*|consistent\w*|remarkabl\w*|competitive)\b",
}
_CUE_RES = {name: re.compile(p, re.IGNORECASE) for name, p in CUES.items()}
_CUE_CASED = {"called"}  # patterns whose capitals matter
for _name in _CUE_CASED:
    _CUE_RES[_name] = re.compile(CUES[_name])


@dataclass(frozen=True)
class Highlights:
    """The idea and result sentences of one abstract (None where the abstract is too short)."""

    idea: str | None
    result: str | None


def sentences(text: str) -> list[str]:
    """The sentences of an abstract, split at end punctuation followed by a capital or digit,
    not after common abbreviations (e.g., i.e., et al.)."""
    text = re.sub(r"\s+", " ", text or "").strip()
    if not text:
        return []
    return [s.strip() for s in _SPLIT.split(text) if s.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of `sentences(text)` in `text` itself (for evaluation against offsets)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SPLIT.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def features(sents: list[str]) -> list[dict[str, float]]:
    """The features of each sentence of one abstract: position, length, cue phrases."""
    n = len(sents)
    out = []
    for i, s in enumerate(sents):
        rel = i / (n - 1) if n > 1 else 0.0
        f: dict[str, float] = {
            "bias": 1.0,
            "pos_first": float(i == 0),
            "pos_second": float(i == 1),
            "pos_last": float(i == n - 1),
            "pos_second_last": float(i == n - 2 and n > 2),
            "pos_rel": rel,
            "pos_rel2": rel * rel,
            "len": min(len(s.split()), 80) / 40.0,
            "short": float(len(s.split()) < 8),
        }
        for name, pat in _CUE_RES.items():
            hit = float(bool(pat.search(s)))
            f["cue_" + name] = hit
            f["cue_" + name + "_x_rel"] = hit * rel
        out.append(f)
    return out


@lru_cache(maxsize=1)
def kind_weights() -> dict[str, dict[str, float]]:
    data = json.loads(MODEL_FILE.read_text())
    return {kind: dict(data["weights"][kind]) for kind in KINDS}


def scores(sents: list[str], weights: dict[str, float]) -> list[float]:
    """Each sentence's score under one kind's linear weights."""
    return _scored(features(sents), weights)


def _scored(feats: list[dict[str, float]], weights: dict[str, float]) -> list[float]:
    return [sum(weights.get(k, 0.0) * v for k, v in f.items()) for f in feats]


@lru_cache(maxsize=4096)
def highlight(abstract: str | None) -> Highlights:
    """The idea and result sentences of `abstract` (remembered for the last 4,096 abstracts). With
    one sentence there is no pick to make; the two picks are different sentences whenever there
    are two or more."""
    sents = sentences(abstract or "")
    if len(sents) < 2:
        return Highlights(None, None)
    m = kind_weights()
    feats = features(sents)
    i, r = pick(_scored(feats, m["idea"]), _scored(feats, m["result"]))
    return Highlights(sents[i], sents[r])


def pick(idea: list[float], result: list[float]) -> tuple[int, int]:
    """The indexes of the idea and the result sentence: each kind's best, two different sentences
    (when both kinds prefer one sentence, it goes to the kind that leads its runner-up by more)."""
    order = range(len(idea))
    i, r = max(order, key=idea.__getitem__), max(order, key=result.__getitem__)
    if i != r:
        return i, r
    i2 = max((j for j in order if j != i), key=idea.__getitem__)
    r2 = max((j for j in order if j != r), key=result.__getitem__)
    return (i, r2) if idea[i] - idea[i2] >= result[r] - result[r2] else (i2, r)
