"""SQL for enrichment (`paperradar enrich`, enrich.py): the papers that lack fields an arXiv
lookup can fill. Does I/O (reads the database).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .base import Library


@dataclass(frozen=True)
class MissingFields:
    """A paper that lacks fields enrichment can fill (title, abstract, authors, dates, categories)."""

    pk: int
    id: str
    ids: tuple[str, ...]
    missing: tuple[str, ...]


def papers_missing_fields(lib: Library) -> list[MissingFields]:
    """Papers without a title, abstract, authors (or only some), dates or categories."""
    q = """
        SELECT pk, id, json_extract(data, '$.ids') AS ids,
               title IS NULL AS title,
               abstract IS NULL AS abstract,
               (json_extract(data, '$.authors') IS NULL
                OR json_extract(data, '$.authors_complete') = 0) AS authors,
               json_extract(data, '$.dates') IS NULL AS dates,
               json_extract(data, '$.categories') IS NULL AS categories
        FROM papers
        WHERE title IS NULL OR abstract IS NULL OR json_extract(data, '$.authors') IS NULL
           OR json_extract(data, '$.authors_complete') = 0
           OR json_extract(data, '$.dates') IS NULL OR json_extract(data, '$.categories') IS NULL
        ORDER BY pk
    """
    fields = ("title", "abstract", "authors", "dates", "categories")
    return [
        MissingFields(
            int(r["pk"]), r["id"], tuple(json.loads(r["ids"] or "[]")), tuple(f for f in fields if r[f])
        )
        for r in lib.conn.execute(q)
    ]
