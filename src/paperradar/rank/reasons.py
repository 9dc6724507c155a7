"""Why a paper was recommended, as data, and the one place that turns it into words.

A reason has a kind and values:
- interest: {"name"}: the profile interest the paper serves best
- nearest_paper: {"paper", "title", "similarity"}: one of the profile's papers it is closest to
- terms: {"words"}: the words that raised its score most
- followed_author: {"author"}: written by an author the profile follows
- keyword_rule: {"kind": "must", "word"}: it mentions one of the profile's must-words

The CLI, the web pages and the digests render reasons with `reason_text`. Pure; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("interest", "nearest_paper", "terms", "followed_author", "keyword_rule")


@dataclass(frozen=True)
class Reason:
    kind: str
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown reason kind {self.kind!r}")

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.values}


def reason_text(reason: Reason | dict[str, Any]) -> str:
    """One reason as a short sentence (also accepts a reason's JSON form)."""
    r = (
        reason
        if isinstance(reason, Reason)
        else Reason(reason["kind"], {k: v for k, v in reason.items() if k != "kind"})
    )
    v = r.values
    if r.kind == "interest":
        return f"serves your interest: {v['name']}"
    if r.kind == "nearest_paper":
        return f"close to your paper “{_short(str(v.get('title') or v['paper']))}” (similarity {float(v['similarity']):.2f})"
    if r.kind == "terms":
        return "driven by the words: " + ", ".join(v["words"])
    if r.kind == "followed_author":
        return f"by {v['author']}, whom you follow"
    return f"mentions “{v['word']}”, one of your must-have words"


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
