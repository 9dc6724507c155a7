"""A paper's row in the papers table, made from its records by dedupe.py's choice per field. No I/O
(but the clock, for `now_iso`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .. import dedupe
from ..storage import PaperValues, RecordRow


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def local_id(records: list[RecordRow]) -> str:
    """A paper's own stable id, from its first record: used when no source gives an id."""
    return "paperradar:" + records[0].key[:12]


def paper_values(records: list[RecordRow]) -> tuple[PaperValues, dict[str, Any]]:
    """What the papers table keeps of a paper made of these records, and the chosen values."""
    chosen, prov = dedupe.choose_fields(records)
    own = local_id(records)
    ids = chosen["ids"]
    has_code = bool(chosen.get("links", {}).get("code")) or any(
        r.fields.get("extra", {}).get("has_code") for r in records
    )
    # title and abstract live in their own columns (and the full-text index); not repeated here
    data = {k: v for k, v in chosen.items() if k not in ("title", "abstract")}
    data.update(ids=ids + [own], has_code=has_code, provenance=prov)
    title = chosen.get("title")
    values = PaperValues(
        id=dedupe.preferred_id(ids, own),
        title=title,
        abstract=chosen.get("abstract"),
        authors="; ".join(a["name"] for a in chosen.get("authors", [])),
        title_key=dedupe.title_key(title),
        year=dedupe.year_of(chosen.get("dates", {}), ids),
        date=dedupe.preferred_iso(chosen.get("dates", {}), ids),
        categories=list(chosen.get("categories", [])),
        weak=not title or not ids,
        data=data,
        now=now_iso(),
    )
    return values, chosen
