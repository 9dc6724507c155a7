"""Broken input never breaks the library: each problem is named with file, line and reason,
every valid neighbour is kept, and a file that cannot be read at all changes nothing.

Bad files are generated in tmp_path; does I/O (temporary files, SQLite, subprocesses).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from paperradar.errors import NotFound, RadarError
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import get_paper, list_papers

PAPERRADAR = REPO / ".venv" / "bin" / "paperradar"
MB = 1024 * 1024


def listing_line(i: int, abstract_words: int = 40) -> str:
    """One paper in the shape of the arXiv daily-listing corpus (one JSON object per line)."""
    words = " ".join(f"w{i}x{k}" for k in range(abstract_words))
    return json.dumps(
        {
            "id": f"2501.{i:05d}",
            "title": f"A study of problem number {i}",
            "abstract": f"We study problem {i} and find that {words}.",
            "authors": ["Ada Lovelace", f"Author Number{i}"],
            "categories": ["cs.LG", "stat.ML"],
            "other_classes": [],
            "comment": None,
            "listing_date": "2025-01-15",
            "last_listing_date": "2025-01-15",
        }
    )


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def import_file(lib, path: Path, fmt: str = "auto"):
    return import_source(lib, Source.from_file(path), fmt)


def paperradar(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point (its error handler, its exit codes)."""
    return subprocess.run(
        [str(PAPERRADAR), "--db", str(db), *args], capture_output=True, text=True, timeout=60, check=False
    )


def rejected_of(result) -> list[dict]:
    files = json.loads(result.stdout)["files"]
    assert len(files) == 1
    return files[0]["rejected"]


def arxiv_ids(lib) -> set[str]:
    return {r[0] for r in lib.conn.execute("SELECT id FROM papers")}


@pytest.fixture
def seeded(lib, tmp_path):
    """A library that already holds three papers, to show a failed import leaves it as it was."""
    import_file(lib, write_lines(tmp_path / "seed.jsonl", [listing_line(i) for i in (901, 902, 903)]))
    before = lib.counts()
    assert before["papers"] == 3
    return lib, before


def assert_untouched(lib, before: dict) -> None:
    assert lib.counts() == before
    assert lib.check_integrity() == []


# ---------------------------------------------------------------- one bad line among good ones


def test_truncated_json_line_is_rejected_and_its_neighbours_kept(lib, tmp_path, cli):
    lines = [listing_line(i) for i in range(1, 11)]
    lines[4] = lines[4][:60]  # line 5 stops in the middle of the title
    path = write_lines(tmp_path / "listing.jsonl", lines)

    report = import_file(lib, path)
    assert report.importer == "arxiv_snapshot"
    assert (report.read, report.new) == (9, 9)
    assert [(e.source, e.line) for e in report.rejected] == [(str(path), 5)]
    assert "invalid JSON" in report.rejected[0].reason
    assert lib.counts()["papers"] == 9
    assert "arxiv:2501.00004" in arxiv_ids(lib) and "arxiv:2501.00006" in arxiv_ids(lib)
    with pytest.raises(NotFound):
        get_paper(lib, "2501.00005")
    assert lib.check_integrity() == []

    result = cli("import", str(path), "--json")
    assert result.exit_code == 0
    [bad] = rejected_of(result)
    assert bad["path"] == str(path) and bad["line"] == 5 and bad["reason"].startswith("invalid JSON")

    human = cli("import", str(path))
    assert f"{path} (arxiv_snapshot): read 9, new 0, merged 0, unchanged 9, rejected 1" in human.stdout
    assert f"rejected {path}:5: invalid JSON" in human.stdout


def test_record_without_title_or_abstract_is_rejected(lib, tmp_path, cli):
    lines = [listing_line(i) for i in range(1, 8)]
    lines[2] = json.dumps({"id": "2501.00003", "authors": ["Nobody Known"], "categories": ["cs.LG"]})
    path = write_lines(tmp_path / "missing.jsonl", lines)

    report = import_file(lib, path)
    assert report.read == 6 and lib.counts()["papers"] == 6
    assert [(e.line, e.reason) for e in report.rejected] == [(3, "no title and no abstract")]
    assert "arxiv:2501.00003" not in arxiv_ids(lib)
    assert lib.check_integrity() == []

    [bad] = rejected_of(cli("import", str(path), "--json"))
    assert bad == {"path": str(path), "line": 3, "reason": "no title and no abstract"}


def test_csv_row_without_id_title_or_abstract_is_rejected(lib, tmp_path):
    path = tmp_path / "papers.csv"
    path.write_text(
        "arxiv_id,title,abstract,authors\n"
        "2501.00001,First paper,An abstract about the first thing.,Ada Lovelace\n"
        ",,,Someone Anonymous\n"
        "2501.00002,Second paper,An abstract about the second thing.,Alan Turing\n",
        encoding="utf-8",
    )
    report = import_file(lib, path)
    assert report.importer == "tabular_csv"
    assert report.read == 2 and lib.counts()["papers"] == 2
    [bad] = report.rejected
    assert bad.line == 3 and "no id, title or abstract" in bad.reason
    assert get_paper(lib, "2501.00002").title == "Second paper"


# ---------------------------------------------------------------- invalid UTF-8


def test_invalid_utf8_in_a_jsonl_line(lib, tmp_path, cli):
    raw = [listing_line(i).encode() for i in range(1, 11)]
    raw[0] = raw[0].replace(b"Ada Lovelace", "Ada Lovelacé Ünal".encode())  # a UTF-8 file...
    raw[6] = raw[6].replace(b"A study of", b"A st\xffudy of")  # ...with a broken byte on line 7
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b"\n".join(raw) + b"\n")

    report = import_file(lib, path)
    assert report.read == 9 and lib.counts()["papers"] == 9
    [bad] = report.rejected
    assert bad.line == 7 and "invalid UTF-8" in bad.reason
    assert "arxiv:2501.00007" not in arxiv_ids(lib)
    assert lib.check_integrity() == []

    [bad_json] = rejected_of(cli("import", str(path), "--json"))
    assert bad_json["line"] == 7 and bad_json["reason"].startswith("invalid UTF-8")


def test_invalid_utf8_in_a_csv_row(lib, tmp_path):
    rows = [f"2501.{i:05d},Paper {i},Abstract of paper {i}.,Author {i}".encode() for i in range(1, 6)]
    rows[1] = rows[1].replace(b"Paper 2", b"Pap\xe9r 2")  # one stray Latin-1 byte: line 3 of the file
    path = tmp_path / "papers.csv"
    path.write_bytes(b"arxiv_id,title,abstract,authors\n" + b"\n".join(rows) + b"\n")

    report = import_file(lib, path)
    assert report.read == 4 and lib.counts()["papers"] == 4
    [bad] = report.rejected
    assert (bad.source, bad.line) == (str(path), 3) and "invalid UTF-8" in bad.reason
    assert get_paper(lib, "2501.00003").title == "Paper 3"


def test_a_latin1_csv_is_read_in_its_encoding(lib, tmp_path):
    rows = [f"2501.{i:05d},Paper {i},Abstract of paper {i}.,Author {i}" for i in range(1, 6)]
    rows[1] = rows[1].replace("Paper 2", "Papér 2 über café").replace("Author 2", "Jürgen Müller")
    path = tmp_path / "papers.csv"
    path.write_bytes(b"arxiv_id,title,abstract,authors\n" + "\n".join(rows).encode("latin-1"))

    report = import_file(lib, path)
    assert report.read == 5 and not report.rejected
    paper = get_paper(lib, "2501.00002")
    assert paper.title == "Papér 2 über café" and paper.authors[0].name == "Jürgen Müller"


def test_a_gbk_ris_file_is_read_in_its_encoding(lib, tmp_path):
    text = "TY  - JOUR\nTI  - 中文标题的研究：深度学习方法\nAU  - 张三\nAU  - 李四\nPY  - 2020\nER  - \n"
    path = tmp_path / "gbk.ris"
    path.write_bytes(text.encode("gbk"))
    report = import_file(lib, path)
    assert report.read == 1 and not report.rejected
    [paper] = list_papers(lib, None)
    assert paper.title == "中文标题的研究：深度学习方法" and [a.name for a in paper.authors] == [
        "张三",
        "李四",
    ]


def test_invalid_utf8_in_a_pasted_page(lib, tmp_path, cli):
    """The arXiv author listing: line 6 is the abstract of 2410.01779."""
    lines = (EXAMPLES / "arxiv-author-listing.txt").read_bytes().split(b"\n")
    assert lines[7] == b"arXiv:2410.01779"
    lines[5] = lines[5].replace(b"rich algebraic", b"rich \xc3\x28algebraic")
    path = tmp_path / "pasted.txt"
    path.write_bytes(b"\n".join(lines))

    report = import_file(lib, path)
    assert report.importer == "page_arxiv_listing"
    assert report.read == 10 and lib.counts()["papers"] == 10
    [bad] = report.rejected
    assert bad.line == 6 and "invalid UTF-8" in bad.reason
    assert get_paper(lib, "2410.09918").abstract.startswith("In human cognition theory")
    assert get_paper(lib, "2410.01779").abstract is None  # the damaged text is dropped, not stored garbled

    human = cli("import", str(path))
    assert f"rejected {path}:6: invalid UTF-8" in human.stdout


# ---------------------------------------------------------------- a 100 MB line


def write_with_huge_line(path: Path) -> Path:
    """Lines 1-3 and 5-7 are papers; line 4 is one JSON object of more than 100 MB."""
    with path.open("w", encoding="utf-8") as f:
        for i in (1, 2, 3):
            f.write(listing_line(i) + "\n")
        f.write('{"id": "2501.00004", "title": "Huge", "abstract": "')
        block = "a" * MB
        for _ in range(100):
            f.write(block)
        f.write('"}\n')
        for i in (5, 6, 7):
            f.write(listing_line(i) + "\n")
    return path


def test_a_100_mb_line_is_reported_not_loaded(lib, tmp_path, monkeypatch):
    path = write_with_huge_line(tmp_path / "huge.jsonl")
    monkeypatch.setenv("PAPERRADAR_NO_WORKER", "1")  # parse in this process, where memory is traced
    tracemalloc.start()
    try:
        report = import_file(lib, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * MB, f"peak {peak / MB:.0f} MB: the long line was loaded"
    assert report.read == 6 and lib.counts()["papers"] == 6
    [bad] = report.rejected
    assert (bad.source, bad.line) == (str(path), 4)
    assert bad.reason == "line is 100 MB, over the 8 MB limit; skipped"
    assert "arxiv:2501.00007" in arxiv_ids(lib)
    assert lib.check_integrity() == []


def _import_peak(path: Path, db: Path) -> tuple[int, str]:
    """`paperradar import PATH --json` in a fresh process: its peak memory (kB) and its output."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(r.stdout)\n"
    )
    cmd = [sys.executable, "-c", probe, str(PAPERRADAR), "--db", str(db), "import", str(path), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    maxrss_kb, report = done.stdout.split("\n", 1)
    return int(maxrss_kb), report


def test_a_100_mb_line_through_the_cli(tmp_path):
    """The real command, run from a fresh process that measures its children's peak memory, next to
    the same command on the same file without the long line (the baseline: the import, the fast tier
    and the ranking features built at its end)."""
    path = write_with_huge_line(tmp_path / "huge.jsonl")
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(listing_line(i) + "\n" for i in (1, 2, 3, 5, 6, 7)), encoding="utf-8")
    baseline_kb, _ = _import_peak(plain, tmp_path / "plain.db")
    maxrss_kb, report = _import_peak(path, tmp_path / "l.db")
    # the 100 MB line read whole would add more than 100 MB
    assert maxrss_kb - baseline_kb < 40 * 1024, f"the long line added {(maxrss_kb - baseline_kb) // 1024} MB"
    [file_report] = json.loads(report)["files"]
    assert file_report["read"] == 6
    assert file_report["rejected"] == [
        {"path": str(path), "line": 4, "reason": "line is 100 MB, over the 8 MB limit; skipped"}
    ]


# ---------------------------------------------------------------- a truncated .gz


def complete_lines_before_cut(data: bytes) -> int:
    """How many whole lines a (cut) gzip stream holds: decompressed here, independently."""
    d = zlib.decompressobj(wbits=31)
    return d.decompress(data).count(b"\n")


def test_truncated_gzip_keeps_the_lines_before_the_cut(lib, tmp_path, cli):
    lines = [listing_line(i, abstract_words=150) for i in range(1, 3001)]
    whole = gzip.compress("".join(line + "\n" for line in lines).encode(), mtime=0)
    cut = whole[: len(whole) * 6 // 10]  # a download that stopped at 60%
    path = tmp_path / "arxiv-listing.jsonl.gz"
    path.write_bytes(cut)
    kept = complete_lines_before_cut(cut)
    assert 500 < kept < 3000

    report = import_file(lib, path)
    assert report.read == kept and lib.counts()["papers"] == kept
    [bad] = report.rejected
    assert (bad.source, bad.line) == (str(path), kept + 1)
    assert "cut off" in bad.reason
    assert f"arxiv:2501.{kept:05d}" in arxiv_ids(lib)
    assert lib.check_integrity() == []

    result = cli("import", str(path), "--json")
    [bad_json] = rejected_of(result)
    assert bad_json["line"] == kept + 1 and "cut off" in bad_json["reason"]
    assert json.loads(result.stdout)["files"][0]["new"] == kept  # the CLI fixture has its own library


# ---------------------------------------------------------------- whole files that cannot be read


def test_binary_file_is_refused_and_changes_nothing(seeded, tmp_path):
    lib, before = seeded
    png = tmp_path / "figure.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40)
    with pytest.raises(RadarError, match=r"figure\.png: binary file, not a format paperradar reads"):
        import_file(lib, png)
    assert_untouched(lib, before)

    done = paperradar(Path(lib.path), "import", str(png))
    assert done.returncode == 1
    assert f"Error: {png}: binary file, not a format paperradar reads" in done.stderr
    assert_untouched(lib, before)


def test_prose_is_not_recognised(seeded, tmp_path):
    lib, before = seeded
    prose = tmp_path / "notes.txt"
    prose.write_text("It was a dark and stormy night; the rain fell in torrents.\n" * 30, encoding="utf-8")
    with pytest.raises(RadarError, match=r"notes\.txt: could not recognise the format; pass --format"):
        import_file(lib, prose)
    done = paperradar(Path(lib.path), "import", str(prose))
    assert done.returncode == 1
    assert f"Error: {prose}: could not recognise the format" in done.stderr
    assert_untouched(lib, before)


def test_jsonl_forced_as_bibtex_says_what_it_looks_like(seeded, tmp_path):
    lib, before = seeded
    path = write_lines(tmp_path / "listing.jsonl", [listing_line(i) for i in range(1, 6)])
    with pytest.raises(
        RadarError, match=r"listing\.jsonl: no bibtex records found; the file looks like arxiv_snapshot"
    ):
        import_file(lib, path, "bibtex")
    done = paperradar(Path(lib.path), "import", "--format", "bibtex", str(path))
    assert done.returncode == 1
    assert f"Error: {path}: no bibtex records found" in done.stderr
    assert_untouched(lib, before)


def test_directory_given_as_a_file_with_a_format(seeded, tmp_path):
    lib, before = seeded
    folder = tmp_path / "not-a-file.jsonl"
    folder.mkdir()
    with pytest.raises(RadarError, match=r"not-a-file\.jsonl: cannot read: .*Is a directory"):
        import_file(lib, folder, "tabular_jsonl")
    assert_untouched(lib, before)


@pytest.mark.parametrize("fmt", ["auto", "arxiv_snapshot"])
def test_file_removed_between_listing_and_reading(seeded, tmp_path, fmt):
    lib, before = seeded
    path = write_lines(tmp_path / "gone.jsonl", [listing_line(1)])
    source = Source.from_file(path)
    path.unlink()
    with pytest.raises(RadarError, match=r"gone\.jsonl: cannot read: .*No such file or directory"):
        import_source(lib, source, fmt)
    assert_untouched(lib, before)


def unreadable_file(folder: Path) -> Path:
    """A file even root cannot read: the process's own memory map reads as an I/O error at offset 0."""
    link = folder / "unreadable.jsonl"
    link.symlink_to("/proc/self/mem")
    try:
        link.read_bytes()
    except OSError:
        return link
    pytest.skip("/proc/self/mem is readable here; no unreadable file can be made as this user")


@pytest.mark.parametrize("fmt", ["auto", "arxiv_snapshot"])
def test_unreadable_file_in_a_folder_is_named_and_the_rest_imported(tmp_path, fmt):
    folder = tmp_path / "drop"
    folder.mkdir()
    bad = unreadable_file(folder)
    write_lines(folder / "good.jsonl", [listing_line(i) for i in range(1, 4)])
    db = tmp_path / "lib.db"
    done = paperradar(db, "import", "--format", fmt, str(folder))
    assert f"Error: {bad}: cannot read" in done.stderr and "Input/output error" in done.stderr
    assert "Traceback" not in done.stderr
    assert f"{folder / 'good.jsonl'} (arxiv_snapshot): read 3, new 3" in done.stdout
    alone = paperradar(tmp_path / "other.db", "import", "--format", fmt, str(bad))
    assert alone.returncode == 1 and f"Error: {bad}: cannot read" in alone.stderr
    stats = json.loads(paperradar(db, "stats", "--json").stdout)
    assert stats["papers"] == 3


def test_nothing_is_half_written_when_a_file_fails_midway(seeded, tmp_path):
    """A file that cannot be opened after others were imported leaves those, and nothing of itself."""
    lib, before = seeded
    good = write_lines(tmp_path / "good.jsonl", [listing_line(i) for i in range(1, 4)])
    gone = write_lines(tmp_path / "gone.jsonl", [listing_line(i) for i in range(4, 7)])
    sources = [Source.from_file(good), Source.from_file(gone)]
    os.remove(gone)
    import_source(lib, sources[0])
    with pytest.raises(RadarError):
        import_source(lib, sources[1], "arxiv_snapshot")
    after = lib.counts()
    assert after["papers"] == before["papers"] + 3
    assert after["imports"] == before["imports"] + 1  # only the finished import is logged
    assert lib.check_integrity() == []
