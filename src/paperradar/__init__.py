"""paperradar: a local-first research radar. The library's public API. No I/O on import.

    import paperradar as pr
    from paperradar.search import search

    lib = pr.open_library("library.db")
    report = pr.import_source(lib, pr.Source.from_file("papers.bib"))
    hits = search(lib, "KV cache compression", mode="hybrid").hits
    lib.close()

The names in `__all__` are the supported entry points (a test pins them); everything else is
internal and may move. Three entry points share their module's name and are imported from it:
`paperradar.search.search`, `paperradar.recommend.recommend` and `paperradar.export.export`
(a package attribute named like a submodule is replaced by the submodule once it is imported). They are imported on first use, so `import paperradar` stays cheap and the
CLI starts fast. docs/architecture.md maps the modules behind them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module it lives in (its one home)
_HOMES = {
    # opening a library
    "Library": "storage.base",
    "open_library": "storage",
    # plain data
    "Author": "models",
    "Paper": "models",
    "PartialDate": "models",
    "Record": "models",
    "SourceRef": "models",
    # errors: only RadarError and its subclasses leave the library
    "BackendUnavailable": "errors",
    "Conflict": "errors",
    "InvalidInput": "errors",
    "NetworkError": "errors",
    "NotFound": "errors",
    "ParseError": "errors",
    "RadarError": "errors",
    # importing
    "ImportReport": "ingest",
    "Source": "importers.base",
    "import_source": "ingest",
    # reading and exporting papers
    "get_paper": "papers",
    "list_papers": "papers",
    # vectors
    "update_index": "index",
    # finding papers
    "Hit": "hits",
    "SearchResult": "search",
    "similar_to": "similar",
    # profiles and recommendations
    "Profile": "profiles",
    "Recommendation": "recommend",
    "create_profile": "profiles",
    "get_profile": "profiles",
    "give_feedback": "profiles",
    # digests and topics
    "Digest": "digest.build",
    "build_digest": "digest.build",
    "new_digest": "digest.service",
    "build_topics": "topics.build",
}

__all__ = [  # pinned by tests/test_public_api.py; each name's home is in _HOMES
    "__version__",
    "Author",
    "BackendUnavailable",
    "Conflict",
    "Digest",
    "Hit",
    "ImportReport",
    "InvalidInput",
    "Library",
    "NetworkError",
    "NotFound",
    "Paper",
    "ParseError",
    "PartialDate",
    "Profile",
    "RadarError",
    "Recommendation",
    "Record",
    "SearchResult",
    "Source",
    "SourceRef",
    "build_digest",
    "build_topics",
    "create_profile",
    "get_paper",
    "get_profile",
    "give_feedback",
    "import_source",
    "list_papers",
    "new_digest",
    "open_library",
    "similar_to",
    "update_index",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its home on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'paperradar' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


if TYPE_CHECKING:  # what type checkers and editors see
    from .digest.build import Digest, build_digest
    from .digest.service import new_digest
    from .errors import (
        BackendUnavailable,
        Conflict,
        InvalidInput,
        NetworkError,
        NotFound,
        ParseError,
        RadarError,
    )
    from .hits import Hit
    from .importers.base import Source
    from .index import update_index
    from .ingest import ImportReport, import_source
    from .models import Author, Paper, PartialDate, Record, SourceRef
    from .papers import get_paper, list_papers
    from .profiles import Profile, create_profile, get_profile, give_feedback
    from .recommend import Recommendation
    from .search import SearchResult
    from .similar import similar_to
    from .storage import open_library
    from .storage.base import Library
    from .topics.build import build_topics
