"""Paths a user gives the CLI: a library file (`--db`) or an output file (`-o`) in a folder that
does not exist is one clear error, and no folder is made on the way (a mistyped path would
otherwise leave a new empty library, or an export, somewhere unexpected)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIB = "@article{a, title={KV cache compression}, author={Ada Lovelace}, year={2024}, doi={10.1000/kv}}\n"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point, in a new process (the error handler lives there)."""
    code = "import sys; from paperradar.cli import main; sys.argv[0] = 'paperradar'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_a_library_in_a_missing_folder_is_an_error_and_makes_no_folder(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "dir"
    done = run_cli("--db", str(missing / "lib.db"), "stats", "--json")
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"Error: folder {missing} does not exist")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "typo").exists()


def test_a_new_library_in_an_existing_folder_is_still_made(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text(BIB)
    done = run_cli("--db", str(tmp_path / "new.db"), "import", str(bib), "--no-index")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new.db").is_file()


def _library(tmp_path: Path) -> str:
    """A library holding the one BibTeX entry, made through the CLI; its path."""
    lib, bib = str(tmp_path / "lib.db"), tmp_path / "a.bib"
    bib.write_text(BIB)
    assert run_cli("--db", lib, "import", str(bib), "--no-index").returncode == 0
    return lib


def test_export_to_a_missing_folder_is_an_error_and_makes_no_folder(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    missing = tmp_path / "no" / "such"
    done = run_cli("--db", lib, "papers", "export", "-f", "bibtex", "-o", str(missing / "out.bib"))
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: folder {missing} does not exist"
    assert not (tmp_path / "no").exists()
    written = run_cli("--db", lib, "papers", "export", "-f", "bibtex", "-o", str(tmp_path / "out.bib"))
    assert written.returncode == 0, written.stderr
    assert "doi = {10.1000/kv}" in (tmp_path / "out.bib").read_text()


def test_db_copy_into_a_missing_folder_is_the_same_error_before_any_work(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    missing = tmp_path / "typo" / "dir"
    done = run_cli("db", "copy", lib, str(missing / "copy.db"))
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: folder {missing} does not exist"
    assert not (tmp_path / "typo").exists()
    gone = run_cli("db", "copy", str(tmp_path / "nope.db"), str(tmp_path / "copy.db"))
    assert (gone.returncode, gone.stderr.strip()) == (
        1,
        f"Error: library {tmp_path / 'nope.db'} does not exist",
    )
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "copy.db").exists()
    copied = run_cli("db", "copy", lib, str(tmp_path / "copy.db"), "--json")
    assert copied.returncode == 0, copied.stderr
    assert '"ok": true' in copied.stdout
