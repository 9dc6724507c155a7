"""Fuzz every importer with generated inputs (hypothesis): no crash, no traceback, and every
rejection a clear `file:line: reason`.

Inputs: half are real sample files (tests/data, every format) with random slices deleted,
duplicated or replaced by format tokens; half are built from format tokens (BibTeX, RIS, CSV,
JSON, arXiv/HF shapes, page text), random text and bytes; any of them may be gzip/xz wrapped or
cut short; with `--own`, half of all inputs instead mutate the samples the importer recognises
(for Parquet, which has no sample file, the CSV sample written as Parquet). Each is parsed by
the importer (format forced, as `--format` does) through the same path as an upload
(`ingest._parse`, `importers.base.UPLOAD_LIMITS`). A crash is any exception that escapes; a
rejection is clear when it names the file and gives a reason (whole-file rejections have no
line; they are counted). Writes a JSON summary to stdout.

    nice -n 10 .venv/bin/python bench/fuzz.py --examples 10000            # per importer
    nice -n 10 .venv/bin/python bench/fuzz.py --examples 500 --only bibtex
    nice -n 10 .venv/bin/python bench/fuzz.py --examples 10000 --own --only tabular_parquet
    nice -n 10 .venv/bin/python bench/fuzz.py --api 200     # the HTTP API, per operation

`--api N` runs schemathesis against the app's own OpenAPI schema instead (as
tests/test_api_schema.py does with 10): N generated requests per operation, with the access token,
over the demo library (examples/ plus a hostile paper); every failed check is counted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperradar import importers
from paperradar.errors import ParseError
from paperradar.importers.base import UPLOAD_LIMITS, Source
from paperradar.ingest import _parse
from paperradar.models import Record

TOKENS = [
    "@article{",
    "@misc{x,",
    "title={",
    "author = {",
    "url={javascript:alert(1)}",
    "}",
    "{",
    ",",
    "\n",
    "TY  - JOUR\n",
    "TI  - ",
    "AU  - ",
    "ER  - \n",
    "UR  - ",
    "id,title,abstract,authors\n",
    '"',
    '""',
    '{"id": "arxiv:2410.09918", "title": "t", "abstract": "a"}\n',
    '{"papers": [',
    "]",
    "[",
    "null",
    "1e999",
    '{"paper": {"id": "2410.09918", "title": "x", "authors": [{"name": "A"}]}}',
    "<feed><entry>",
    "</entry>",
    "arXiv:2410.09918",
    "Title:",
    "Authors:",
    "Abstract:",
    "Comments:",
    "Subjects:",
    "\r\n",
    "\t",
    "\\",
    "ü",
    "\u202e",
    "\x00",
    "2024-13-45",
    "-1",
    "9" * 40,
    "ﬁ",
    "😀",
]


SAMPLES_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"
SAMPLES = sorted(p for p in SAMPLES_DIR.rglob("*") if p.is_file() and p.stat().st_size < 64 * 1024)


def own_samples(name: str) -> list[bytes]:
    """The samples the importer itself recognises (`detect`), plus, for Parquet, which has no file
    in tests/data, the CSV sample written as Parquet: what `--own` mutates half the time."""
    module = importers.load(name)
    found = [p.read_bytes() for p in SAMPLES if module.detect(_head(p.read_bytes()), p.name) > 0]
    if name == "tabular_parquet":
        import csv
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        with (SAMPLES_DIR / "tabular" / "papers.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        out = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), out)
        found.append(out.getvalue())
    return found


def _head(data: bytes) -> str:
    return data[:65536].decode("utf-8", "replace")


@st.composite
def mutated_sample(draw: st.DrawFn, pool: tuple[bytes, ...] = ()) -> bytes:
    """A sample (from `pool`, else from every file in tests/data) with random slices changed."""
    if pool:
        data = bytearray(pool[draw(st.integers(0, len(pool) - 1))])
    else:
        data = bytearray(SAMPLES[draw(st.integers(0, len(SAMPLES) - 1))].read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        size = draw(st.integers(0, 200))
        how = draw(st.sampled_from(["delete", "duplicate", "token", "bytes"]))
        if how == "delete":
            del data[at : at + size]
        elif how == "duplicate":
            data[at:at] = data[at : at + size]
        elif how == "token":
            data[at:at] = draw(st.sampled_from(TOKENS)).encode("utf-8", "surrogatepass")
        else:
            data[at : at + 1] = draw(st.binary(max_size=8))
    return bytes(data)


def inputs(own: list[bytes] | None = None) -> st.SearchStrategy[bytes]:
    """Generated inputs; with `own` (see own_samples), half of them are mutations of those."""
    text = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=40)), max_size=60).map("".join)
    built = st.one_of(text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=2000))
    as_bytes = st.one_of(mutated_sample(), built)
    if own:
        as_bytes = st.one_of(mutated_sample(tuple(own)), as_bytes)
    wrapped = st.tuples(as_bytes, st.sampled_from(["plain", "plain", "plain", "gzip", "xz", "cut-gzip"]))
    return wrapped.map(_wrap)


def _wrap(pair: tuple[bytes, str]) -> bytes:
    data, how = pair
    if how == "gzip":
        return gzip.compress(data)
    if how == "xz":
        return lzma.compress(data)
    if how == "cut-gzip":
        return gzip.compress(data)[: max(1, len(data) // 2)]
    return data


def check_one(name: str, data: bytes, tally: dict[str, Any]) -> None:
    source = Source.from_bytes(data, "fuzz.in", UPLOAD_LIMITS)
    try:
        items = list(_parse(importers.load(name), source, None)) + list(source.issues)
    except Exception:  # a crash: anything the importer let escape
        tally["crashes"] += 1
        if len(tally["examples"]) < 5:
            tally["examples"].append({"input": data[:300].hex(), "traceback": traceback.format_exc()[-1500:]})
        return
    tally["inputs"] += 1
    tally["accepted_inputs"] += any(isinstance(i, Record) for i in items)
    for item in items:
        if isinstance(item, ParseError):
            tally["rejections"] += 1
            clear = item.source == "fuzz.in" and bool(item.reason) and "Traceback" not in item.reason
            tally["unclear"] += not clear
            tally["no_line"] += item.line is None
            if item.line is None and len(tally["no_line_reasons"]) < 3:
                tally["no_line_reasons"].append(item.reason[:120])
        elif isinstance(item, Record):
            tally["records"] += 1


def campaign(name: str, examples: int, own: bool = False) -> dict[str, Any]:
    tally: dict[str, Any] = dict.fromkeys(
        ["inputs", "accepted_inputs", "crashes", "rejections", "unclear", "no_line", "records"], 0
    )
    tally["examples"], tally["no_line_reasons"] = [], []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(inputs(own_samples(name) if own else None))
    def run(data: bytes) -> None:
        check_one(name, data, tally)

    started = time.perf_counter()
    run()
    tally["seconds"] = round(time.perf_counter() - started, 1)
    return tally


def api_campaign(examples: int) -> dict[str, Any]:
    """schemathesis over every operation of the API: failures per operation (none expected)."""
    import tempfile

    import schemathesis
    from schemathesis.checks import positive_data_acceptance

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from paperradar.web import create_app
    from paperradar.web.security import hash_token
    from test_api_schema import CLIENT_TIMEOUT, bounded  # /api/import's wait capped, as the test does
    from web_helpers import demo_library

    app = create_app(demo_library(Path(tempfile.mkdtemp()) / "lib.db"), token_hash=hash_token("fuzz"))
    app.openapi()  # built once here: loading it through the app must not time out on a busy machine
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    out: dict[str, Any] = {"operations": 0, "requests": 0, "failures": 0, "failed": []}
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        out["operations"] += 1

        @settings(
            max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            out["requests"] += 1
            bounded(case).call_and_validate(
                headers={"Authorization": "Bearer fuzz"},
                excluded_checks=[positive_data_acceptance],
                timeout=CLIENT_TIMEOUT,
            )

        try:
            check()
        except Exception as e:  # a failed check: recorded, the campaign goes on
            out["failures"] += 1
            out["failed"].append(f"{operation.label}: {str(e)[:300]}")
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=10_000, help="generated inputs per importer")
    ap.add_argument("--only", nargs="*", help="importer names (default: all)")
    ap.add_argument("--own", action="store_true", help="half the inputs mutate the importer's own samples")
    ap.add_argument(
        "--api", type=int, help="fuzz the HTTP API instead, with this many requests per operation"
    )
    args = ap.parse_args(argv)
    if args.api:
        api = api_campaign(args.api)
        print(json.dumps(api, indent=1))
        return 1 if api["failures"] else 0
    names = args.only or sorted(importers.IMPORTERS)
    results = {}
    for name in names:
        results[name] = campaign(name, args.examples, args.own)
        print(f"{name}: {results[name]}", file=sys.stderr)
    print(json.dumps(results, indent=1))
    return 1 if any(r["crashes"] or r["unclear"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
