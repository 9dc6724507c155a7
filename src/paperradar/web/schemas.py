"""The JSON API's response bodies as pydantic models (issue 18): each `/api/` route names one as
its `response_model`, so `/openapi.json` describes every body and FastAPI checks what a route
returns against it. A model lists exactly the fields that go out: a key a route's dict carries
that its model does not name is dropped, never sent (a stray path or secret cannot leak through a
new key). Routes register with `response_model_exclude_unset=True` (see `JSON`), so a key a body
leaves out (Home's `preparing`) stays out. No I/O.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# the keyword arguments of every JSON route's decorator besides its model: keys a route leaves out
# stay out, as before the models (FastAPI's default would add them with their defaults)
JSON: dict[str, Any] = {"response_model_exclude_unset": True}


class Body(BaseModel):
    """A successful answer: `ok` is true (errors are `errors.ErrorBody`)."""

    model_config = ConfigDict(extra="ignore")
    ok: Literal[True]


class Page(Body):
    """The paging envelope of a list (`deps.page_json`)."""

    total: int
    limit: int
    offset: int
    next_offset: int | None


# ---------------------------------------------------------------- papers
class AuthorOut(BaseModel):
    name: str
    affiliations: list[str]


class SourceOut(BaseModel):
    """One source record of a paper; `path` is a file's base name, a URL or an upload name."""

    key: str
    importer: str
    path: str
    line: int | None
    imported_at: str | None
    fields: dict[str, Any]


class PaperRecord(BaseModel):
    """The merged record of a paper (docs/formats.md, "JSONL export"); `sources` on its own page."""

    id: str
    ids: list[str]
    title: str | None
    abstract: str | None
    authors: list[AuthorOut]
    authors_complete: bool
    author_count: int | None
    categories: list[str]
    dates: dict[str, str]
    links: dict[str, list[str]]
    has_code: bool
    comment: str | None
    venue: str | None
    organisation: str | None
    upvotes: int | None
    score: float | None
    provenance: dict[str, str]
    sources: list[SourceOut] | None = None


class PaperBrief(BaseModel):
    """What a list shows of a paper (`web.papers.paper_brief`)."""

    id: str
    title: str | None
    label: str
    fetchable: bool
    abstract_start: str
    authors: str
    date: str | None
    categories: list[str]
    has_code: bool
    links: dict[str, str]


class SimilarPaper(PaperBrief):
    score: float
    reasons: list[str]


class KeySentences(BaseModel):
    idea: str | None
    result: str | None


class PaperPage(Body):
    paper: PaperRecord
    date: str | None
    links: dict[str, str]
    highlights: KeySentences
    similar: list[SimilarPaper] | None


class SimilarList(Body):
    id: str
    items: list[SimilarPaper] | None


class Fetched(Body):
    found: bool
    paper: PaperBrief


# ---------------------------------------------------------------- search and library
class HitOut(BaseModel):
    """One search result (the CLI's `search --json` object)."""

    id: str
    ids: list[str]
    title: str | None
    score: float
    snippet: str
    highlights: list[tuple[int, int]]
    authors: list[str]
    date: str | None
    categories: list[str]
    reasons: list[str]


class SearchPage(Page):
    query: str
    mode: str
    took_ms: float
    relaxed: bool
    notes: list[str]
    items: list[HitOut]


class LibraryPage(Page):
    sort: str
    items: list[PaperRecord]


class Stats(Body):
    """What the library holds; `path` is the library file's base name (never a server folder)."""

    path: str
    papers: int
    records: int
    aliases: int
    merged_papers: int
    corrections: int
    imports: int
    records_by_importer: dict[str, int]


# ---------------------------------------------------------------- import and jobs
class LineNote(BaseModel):
    path: str
    line: int | None
    reason: str


class FileReport(BaseModel):
    path: str
    format: str | None
    read: int
    new: int
    merged: int
    unchanged: int
    rejected: list[LineNote]
    conflicts: list[LineNote]


class ImportReport(Body):
    files: list[FileReport]
    failed: list[str]
    index: dict[str, Any] | None
    features: dict[str, Any] | None
    job: int


class JobOut(BaseModel):
    id: int
    kind: str
    state: Literal["queued", "running", "done", "failed", "interrupted"]
    done: int
    message: str
    result: dict[str, Any] | None
    created_at: str
    updated_at: str


class JobBody(Body):
    job: JobOut


# ---------------------------------------------------------------- profiles and Home
class InterestOut(BaseModel):
    name: str
    terms: list[str]
    papers: list[str]


class FeedbackOut(BaseModel):
    paper: str
    kind: str
    at: str


class ProfileOut(BaseModel):
    """A profile (docs/cli.md, "profile")."""

    name: str
    author: str | None
    created_at: str
    recommended_at: str | None
    papers: list[str]
    interests: list[InterestOut]
    feedback: list[FeedbackOut]
    seen: int
    follows: list[str]
    rules: dict[str, list[str]]
    threshold: float | None


class ProfileBody(Body):
    profile: ProfileOut


class ProfileList(Body):
    total: int
    items: list[ProfileOut]


class Candidate(BaseModel):
    """One person behind an author name."""

    pick: int
    name: str
    papers: int
    paper_ids: list[str]
    coauthors: list[str]
    topics: list[str]
    categories: list[str]
    years: list[int | None]


class CandidateList(Body):
    total: int
    items: list[Candidate]


class FeedbackBody(Body):
    feedback: FeedbackOut


class Undone(Body):
    undone: FeedbackOut | None


class Deleted(Body):
    deleted: str


class ToRate(BaseModel):
    id: str
    title: str | None
    abstract: str | None


class ToRateList(Body):
    total: int
    items: list[ToRate]


class Rated(Body):
    rated: int


class Recommended(BaseModel):
    """One recommendation (docs/cli.md, "recommend") with its key sentences."""

    id: str
    ids: list[str]
    title: str | None
    authors: list[str]
    date: str | None
    categories: list[str]
    links: dict[str, list[str]]
    score: float
    strength: float
    followed: bool
    interest: str | None
    why: list[dict[str, Any]]
    reasons: list[str]
    nearest: list[str]
    terms: list[str]
    highlights: KeySentences


class Group(BaseModel):
    interest: str
    items: list[Recommended]


class Home(Body):
    """`stale` and `preparing` are left out when there is no profile (and `preparing` unless true)."""

    profile: str | None
    profiles: list[str]
    groups: list[Group]
    stale: bool = False
    preparing: bool = False


# ---------------------------------------------------------------- digests
class DigestPaper(BaseModel):
    id: str
    title: str | None
    authors: list[str]
    date: str | None
    score: float
    interest: str | None
    reasons: list[str]
    links: dict[str, str]


class DigestOut(BaseModel):
    profile: str
    generated_at: str
    since: str | None
    papers: list[DigestPaper]


class DigestPreview(Body):
    """`digest` is null (and `preparing` true) while the first preview is computed."""

    stale: bool
    preparing: bool = False
    digest: DigestOut | None


class SendResultOut(BaseModel):
    profile: str
    status: Literal["sent", "nothing_new", "failed"]
    papers: list[str]
    recipient: str | None
    message_id: str | None
    retried: bool
    error: str | None


class Sent(Body):
    result: SendResultOut


class DigestRecord(BaseModel):
    """A stored digest: its state and papers (the columns of `digests`, no more)."""

    pk: int
    profile: str
    created_at: str
    since: str | None
    last_paper_pk: int | None
    status: Literal["pending", "sent"]
    message_id: str
    recipient: str | None
    attempts: int
    last_error: str | None
    sent_at: str | None
    items: list[dict[str, Any]]


class DigestHistory(Body):
    items: list[DigestRecord]


class LinkFeedbackOut(FeedbackOut):
    profile: str


class LinkFeedback(Body):
    feedback: LinkFeedbackOut


# ---------------------------------------------------------------- accounts
class UserOut(BaseModel):
    name: str
    admin: bool


class Me(Body):
    """`user` is null on a library without accounts."""

    user: UserOut | None


class UserSummary(UserOut):
    """A user as admins see them: never a secret."""

    created_at: str
    last_login_at: str | None
    profiles: int
    tokens: int
    sessions: int


class UserList(Body):
    total: int
    items: list[UserSummary]


class UserBody(Body):
    user: UserOut


class Removed(Body):
    removed: str


class NewToken(Body):
    """The new API token, shown this once."""

    token: str


# ---------------------------------------------------------------- topics
class TopicOut(BaseModel):
    id: int
    label: str
    size: int
    parent: int | None
    level: Literal["broad", "fine"]
    terms: list[str]


class TopicList(Body):
    """`build` is null before the first `paperradar topics build`."""

    total: int
    build: dict[str, Any] | None
    items: list[TopicOut]


class TopicPaper(BaseModel):
    id: str
    title: str | None
    month: str | None


class TopicDetail(Body, TopicOut):
    parent_label: str | None
    children: list[TopicOut]
    central: list[TopicPaper]
    recent: list[TopicPaper]
    months: list[str]
    counts: list[int]


class Mover(BaseModel):
    id: int
    label: str
    recent: int
    before: int
    growth: float
    low: float
    high: float
    z: float


class Trends(Body):
    """The library's trends (`months`, `rising`, `topics` with counts, `movers`), or with `profile`
    what is new in that profile's topics (`profile`, `window_from`, `window_to`, `topics`)."""

    profile: str | None = None
    window_from: str | None
    window_to: str | None
    before_from: str | None = None
    months: list[str] = []
    complete_months: int = 0
    rising: list[dict[str, Any]] = []
    topics: list[dict[str, Any]]
    movers: list[Mover] = []


class MapTopic(TopicOut):
    x: float
    y: float


class MapPoint(BaseModel):
    id: str
    title: str | None
    x: float
    y: float
    topic: int
    hit: bool


class MapBody(Body):
    query: str
    profile: str | None
    topics: list[MapTopic]
    points: list[MapPoint]
    total: int
