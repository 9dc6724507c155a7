"""Make a benchmark library's input of any size (1M, 3M, ...) from the 118k corpus, deterministically.

The 118,024 real papers come first, unchanged. The rest are synthetic: copy c (1, 2, ...) of
paper i takes the first 40% of i's abstract sentences, the middle of paper j's and the end of paper k's
(j and k are fixed offsets away from i, different for each copy), the first half of i's title with the
second half of k's, i's authors, categories and date, and the DOI `10.99999/synth.c.<arXiv id>`.
So each synthetic paper is a plausible mixture of three real ones: its words, its vector and its
FTS5 postings are realistic, and no two papers share an abstract (so none is merged as a duplicate;
the check after import says so). Same input, same output, byte for byte.

    .venv/bin/python bench/make_library.py --size 1M      # bench/out/synth-1m.jsonl
    .venv/bin/python bench/make_library.py --size 3M      # bench/out/synth-3m.jsonl (~5 GB)
    .venv/bin/paperradar --db bench/out/lib-1m.db import --no-index bench/out/synth-1m.jsonl
"""

from __future__ import annotations

import argparse
import lzma
import re
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz"
OFFSETS = [(7919, 104729), (15485863 % 118024, 32452843 % 118024), (49979687 % 118024, 86028121 % 118024)]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(" ".join(text.split())) if s]


def mix(i: int, c: int, papers: list[dict], split: list[list[str]]) -> dict:
    n = len(papers)
    a, b = OFFSETS[c % len(OFFSETS)]
    j, k = (i + a * c) % n, (i + b * c + 1) % n
    si, sj, sk = split[i], split[j], split[k]
    cut_i = max(1, round(len(si) * 0.4))
    mid_j = sj[len(sj) // 3 : max(len(sj) // 3 + 1, 2 * len(sj) // 3)]
    end_k = sk[max(1, 2 * len(sk) // 3) :] or sk[-1:]
    ti, tk = papers[i]["title"].split(), papers[k]["title"].split()
    p = papers[i]
    return {
        "doi": f"10.99999/synth.{c}.{p['id']}",
        "title": " ".join(ti[: max(1, len(ti) // 2)] + tk[len(tk) // 2 :]),
        "abstract": " ".join(si[:cut_i] + mid_j + end_k),
        "authors": p["authors"],
        "categories": p["categories"],
        "date": p["listing_date"],
    }


def size(text: str) -> int:
    """'3M', '500k' or '250000' as a number of papers."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1M, 500k, 250000)")
    return round(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=size, default=1_000_000, help="papers in all, e.g. 1M or 3M")
    ap.add_argument("--out", type=Path, help="default: bench/out/synth-<size>.jsonl")
    args = ap.parse_args()
    args.total = args.size
    if args.out is None:
        label = f"{args.size // 1_000_000}m" if args.size % 1_000_000 == 0 else str(args.size)
        args.out = ROOT / "bench" / "out" / f"synth-{label}.jsonl"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(CORPUS, "rb") as f:
        papers = [orjson.loads(line) for line in f]
    split = [sentences(p["abstract"] or "") or [""] for p in papers]
    tmp = args.out.with_name(args.out.name + ".part")
    written = 0
    with open(tmp, "wb") as out:
        for p in papers:
            row = {k: p[k] for k in ("id", "title", "abstract", "authors", "categories")}
            row["date"] = p["listing_date"]
            out.write(orjson.dumps(row) + b"\n")
            written += 1
        c = 1
        while written < args.total:
            for i in range(len(papers)):
                if written >= args.total:
                    break
                out.write(orjson.dumps(mix(i, c, papers, split)) + b"\n")
                written += 1
            c += 1
    tmp.replace(args.out)
    print(f"wrote {written:,} papers to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
