"""Many small imports into a big library: 21 tiny files (BibTeX, RIS, CSV; 3 entries each, some
already in the library) into an 11,000-paper library, in one import command.

Compared in the same run, each on a fresh copy of the same library:
- per-file matching (the baseline, how imports worked before issue 14): `import_source` per file,
  each building its own matching state (weak-paper index, corrections);
- one matching state per command (what `paperradar import` does now);
- the CLI end to end: `paperradar import DIR --no-index` in a new process (Python start included).

The library: the first 9,000 papers of ../shared/corpora/arxiv-118k plus 2,000 BibTeX entries
without ids (made from the next 2,000 papers), like a researcher's own bibliography: papers that
only their abstract identifies, the ones the weak-paper index holds. Built once into
bench/out/many-imports-11k.db.

    nice -n 10 .venv/bin/python bench/many_imports.py [--json]
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
LIBRARY = ROOT / "bench" / "out" / "many-imports-11k.db"


def corpus_rows(n: int) -> list[dict]:
    rows = []
    with lzma.open(CORPUS, "rt") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def bib_entry(key: str, row: dict, with_id: bool) -> str:
    authors = " and ".join(row["authors"][:4]) if isinstance(row["authors"], list) else row["authors"]
    eprint = f"  eprint = {{{row['id']}}},\n  archivePrefix = {{arXiv}},\n" if with_id else ""
    return (
        f"@article{{{key},\n  title = {{{row['title']}}},\n  author = {{{authors}}},\n"
        f"  year = {{2025}},\n{eprint}  abstract = {{{row['abstract']}}}\n}}\n"
    )


def build_library(rows: list[dict]) -> None:
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source
    from paperradar.storage import open_library

    LIBRARY.parent.mkdir(parents=True, exist_ok=True)
    lib = open_library(LIBRARY)
    snapshot = "".join(json.dumps(r) + "\n" for r in rows[:9000])
    import_source(lib, Source.from_bytes(snapshot.encode(), "arxiv-9000.jsonl"))
    bib = "".join(bib_entry(f"own{i}", r, with_id=False) for i, r in enumerate(rows[9000:11000]))
    import_source(lib, Source.from_bytes(bib.encode(), "own-bibliography.bib"))
    print(f"library: {lib.counts()['papers']:,} papers", file=sys.stderr)
    lib.close()


def small_files(rows: list[dict], folder: Path) -> None:
    """21 files of 3 entries: one a paper of the library, two new (from rows 11,000 on)."""
    for i in range(21):
        old, new = rows[i * 400], rows[11000 + 2 * i : 11002 + 2 * i]
        kind = ("bib", "ris", "csv")[i % 3]
        picked = [old, *new]
        if kind == "bib":
            text = "".join(bib_entry(f"k{i}_{j}", r, with_id=True) for j, r in enumerate(picked))
        elif kind == "ris":
            text = "".join(
                f"TY  - JOUR\nTI  - {r['title']}\nAU  - {r['authors'][0]}\nPY  - 2025\n"
                f"UR  - https://arxiv.org/abs/{r['id']}\nER  - \n\n"
                for r in picked
            )
        else:
            lines = ["arxiv_id,title,year"] + [f'{r["id"]},"{r["title"]}",2025.0' for r in picked]
            text = "\n".join(lines) + "\n"
        (folder / f"small{i:02d}.{kind}").write_text(text)


def timed_import(folder: Path, db: Path, shared: bool) -> float:
    from paperradar.importers.base import Source
    from paperradar.ingest import MatchState, expand_paths, import_source
    from paperradar.storage import open_library

    lib = open_library(db)
    start = time.perf_counter()
    state = MatchState(lib) if shared else None
    for path in expand_paths([folder]):
        import_source(lib, Source.from_file(path), matching=state)
    elapsed = time.perf_counter() - start
    lib.close()
    return elapsed


def timed_cli(folder: Path, db: Path) -> float:
    start = time.perf_counter()
    cli = [str(ROOT / ".venv" / "bin" / "paperradar"), "--db", str(db), "import", str(folder), "--no-index"]
    subprocess.run(cli, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = corpus_rows(11100)
    if not LIBRARY.exists():
        build_library(rows)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "small"
        folder.mkdir()
        small_files(rows, folder)
        for name, run in (
            ("per-file matching (baseline)", lambda db: timed_import(folder, db, shared=False)),
            ("one matching state per command", lambda db: timed_import(folder, db, shared=True)),
            ("CLI: paperradar import DIR --no-index", lambda db: timed_cli(folder, db)),
        ):
            db = Path(tmp) / "lib.db"
            shutil.copy(LIBRARY, db)
            results[name] = round(run(db), 3)
            db.unlink()
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for name, seconds in results.items():
            print(f"{name:42s} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
