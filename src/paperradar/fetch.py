"""Network fetchers for the arXiv API and the Hugging Face Daily Papers API. Does network I/O.

Fetchers only download: they return the raw response bytes, and the importers
(`importers.arxiv_atom`, `importers.hf_daily`) turn those into records. Every failure to get a
usable answer (offline, DNS, timeouts, a server that keeps failing) is one `NetworkError` with a
one-line message. Requests are paced (arXiv asks for one request every 3 seconds), retried with
exponential backoff on 5xx, 429, timeouts and connection errors, and carry a descriptive
User-Agent. The clock and the sleep function can be passed in, so tests never really wait.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date as Date

import httpx

from . import __version__
from .errors import InvalidInput, NetworkError, ParseError
from .importers import arxiv_atom

ARXIV_API = "https://export.arxiv.org/api/query"
HF_DAILY_API = "https://huggingface.co/api/daily_papers"
USER_AGENT = f"paperradar/{__version__} (local-first research radar; python-httpx/{httpx.__version__})"
ARXIV_MAX_PAGE = 2000  # the arXiv API refuses larger pages

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass
class Pacer:
    """Keeps requests at least `delay` seconds apart (on a monotonic clock)."""

    delay: float
    clock: Clock
    sleep: Sleep
    last: float | None = None

    def wait(self, at_least: float = 0.0) -> None:
        remaining = 0.0 if self.last is None else self.last + self.delay - self.clock()
        pause = max(remaining, at_least)
        if pause > 0:
            self.sleep(pause)
        self.last = self.clock()


def fetch_arxiv(
    query: str | None = None,
    ids: list[str] | None = None,
    *,
    start: int = 0,
    page_size: int = 100,
    max_results: int | None = None,
    base_url: str = ARXIV_API,
    delay: float = 3.0,
    retries: int = 4,
    backoff: float = 2.0,
    timeout: float = 30.0,
    on_page: Callable[[int], None] | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> Iterator[bytes]:
    """Yield the raw Atom bytes of each page of an arXiv API search (`query`) or id lookup (`ids`).

    `start` resumes from an offset. After the caller has taken a page, `on_page(next_start)` is
    called so progress can be saved; pass that value as `start` to resume later. Paging stops
    when the results are exhausted, a page comes back empty, or `max_results` records are fetched.
    """
    if not query and not ids:
        raise InvalidInput("fetch_arxiv needs a search query or a list of arXiv ids")
    if not 1 <= page_size <= ARXIV_MAX_PAGE:
        raise InvalidInput(f"page_size must be between 1 and {ARXIV_MAX_PAGE}, not {page_size}")
    params: dict[str, str | int] = {}
    if query:
        params["search_query"] = query
    if ids:
        params["id_list"] = ",".join(ids)
    pacer = Pacer(delay, clock, sleep)
    fetched = 0
    with http_client(timeout) as client:
        while max_results is None or fetched < max_results:
            size = page_size if max_results is None else min(page_size, max_results - fetched)
            page = {**params, "start": start, "max_results": size}
            response = get_with_retries(client, base_url, page, retries=retries, backoff=backoff, pacer=pacer)
            body = response.content
            total, count = _arxiv_page(response, body)
            yield body
            start += count
            fetched += count
            if on_page is not None:
                on_page(start)
            if count == 0 or start >= total:
                return


def _arxiv_page(response: httpx.Response, body: bytes) -> tuple[int, int]:
    """(totalResults, entries on this page); arXiv's error feed or a non-feed answer raise."""
    host = host_of(response.request.url)
    try:
        error = arxiv_atom.api_error(body)
        total, _, _ = arxiv_atom.page_info(body)
        count = arxiv_atom.entry_count(body)
    except ParseError as e:
        if response.is_error:
            raise NetworkError(f"{host} answered {status_line(response)}") from None
        raise NetworkError(f"{host} did not answer with an arXiv API feed: {e.reason}") from None
    if error is not None:
        raise InvalidInput(f"the arXiv API refused the request: {error}")
    if response.is_error:
        raise NetworkError(f"{host} answered {status_line(response)}")
    return total, count


def fetch_hf_daily(
    date: str,
    *,
    base_url: str = HF_DAILY_API,
    retries: int = 4,
    backoff: float = 2.0,
    timeout: float = 30.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> bytes:
    """The raw JSON of the Hugging Face Daily Papers list for one day (`YYYY-MM-DD`)."""
    try:
        Date.fromisoformat(date)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise ValueError(date)
    except ValueError:
        raise InvalidInput(f"not a date: {date!r} (use YYYY-MM-DD)") from None
    pacer = Pacer(0.0, clock, sleep)
    with http_client(timeout) as client:
        response = get_with_retries(
            client, base_url, {"date": date}, retries=retries, backoff=backoff, pacer=pacer
        )
    host = host_of(response.request.url)
    if response.is_error:
        raise NetworkError(f"{host} answered {status_line(response)} for date {date}")
    if response.content.lstrip()[:1] not in (b"[", b"{"):
        raise NetworkError(f"{host} did not answer with JSON (a login page or a proxy in the way?)")
    return response.content


# ---------------------------------------------------------------- HTTP with retries


def http_client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


def get_with_retries(
    client: httpx.Client,
    url: str,
    params: dict[str, str | int],
    *,
    retries: int,
    backoff: float,
    pacer: Pacer,
) -> httpx.Response:
    """GET with pacing and retries. Returns any answer that is not worth retrying (2xx-4xx but 429)."""
    host = host_of(httpx.URL(url))
    failure = ""
    wait = 0.0
    for attempt in range(retries + 1):
        pacer.wait(wait)
        wait = backoff * 2**attempt
        try:
            response = client.get(url, params=params)
        except httpx.TimeoutException:
            failure = f"{host} did not answer within {_seconds(client.timeout)}"
            continue
        except httpx.TransportError as e:
            failure = f"cannot reach {host}: {_reason(e)}"
            if _NAME_UNKNOWN.search(failure):
                retries = attempt  # no name resolution: offline, and retrying will not help
                break
            continue
        if response.status_code != 429 and response.status_code < 500:
            return response
        failure = f"{host} answered {status_line(response)}"
        wait = max(wait, min(_retry_after(response) or 0.0, 300.0))
    tries = f"{retries + 1} attempts" if retries else "1 attempt"
    if failure.startswith("cannot reach"):
        raise NetworkError(f"{failure} ({tries}); are you offline?")
    raise NetworkError(f"{failure} ({tries}); try again later")


_NAME_UNKNOWN = re.compile(
    r"name or service not known|nodename nor servname|name resolution|getaddrinfo", re.I
)


def host_of(url: httpx.URL) -> str:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.host if url.port in (None, default) else f"{url.host}:{url.port}"


def status_line(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _seconds(timeout: httpx.Timeout) -> str:
    return f"{timeout.read:g}s" if timeout.read is not None else "the time limit"


def _reason(error: Exception) -> str:
    """'[Errno 111] Connection refused' -> 'connection refused'."""
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(error).strip()) or type(error).__name__
    return text[:1].lower() + text[1:]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None
