"""Ranking features are computed once per library generation: kept in memory and beside the
library, and a library change updates exactly the rows it touched (a big change refits)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from paperradar.rank import features as F
from paperradar.storage import open_library
from test_profiles import make_papers

KEEP = F.Policy(refit_share=0.5, small=0)  # a small test library still reuses its vocabulary


@pytest.fixture
def fitted(lib, monkeypatch):
    """A library of 40 papers whose features are built; counts the vocabulary fits."""
    fits = []
    real = F.fit_vocabulary
    monkeypatch.setattr(F, "fit_vocabulary", lambda *a, **k: fits.append(1) or real(*a, **k))
    pks = make_papers(lib, [(t, i, ["A B"], []) for t in ("proteins", "galaxies") for i in range(20)])
    F.forget()
    feats = F.load_features(lib, KEEP, dense=False)
    assert len(fits) == 1 and list(feats.pks) == sorted(pks)
    return lib, pks, feats, fits


def row(feats, pk):
    return feats.lexical[feats.rows([pk])[0]].toarray().ravel()


def test_unchanged_library_reuses_features_in_memory_and_on_disk(fitted):
    lib, pks, feats, fits = fitted
    assert F.load_features(lib, KEEP, dense=False) is feats  # same process: no work at all
    F.forget()  # a new process: read from <library>.features/, not refitted
    again = F.load_features(lib, KEEP, dense=False)
    assert len(fits) == 1 and (F.cache_dir(lib) / "meta.json").is_file()
    assert np.allclose((again.lexical - feats.lexical).toarray(), 0)
    assert again.vocabulary.terms == feats.vocabulary.terms


def test_a_new_paper_adds_its_row_and_keeps_the_rest(fitted):
    lib, pks, feats, fits = fitted
    before = {pk: row(feats, pk) for pk in pks}
    new = make_papers(lib, [("proteins", 99, ["C D"], [])])[0]
    after = F.load_features(lib, KEEP, dense=False)
    assert len(fits) == 1 and after.vocabulary.terms == feats.vocabulary.terms  # no refit
    assert after.rows([new])[0] >= 0 and row(after, new).any()
    assert pks and all(np.array_equal(row(after, pk), before[pk]) for pk in pks)


def test_a_changed_paper_gets_a_new_row_and_a_deleted_one_loses_its_row(fitted):
    lib, pks, feats, fits = fitted
    galaxy, protein, gone = pks[25], pks[0], pks[1]
    old = row(feats, protein)
    with lib.transaction():
        lib.conn.execute(
            "UPDATE papers SET abstract = (SELECT abstract FROM papers WHERE pk = ?),"
            " updated_at = '9999-01-01T00:00:00' WHERE pk = ?",
            (galaxy, protein),
        )
        lib.conn.execute("DELETE FROM records WHERE paper_pk = ?", (gone,))
        lib.delete_paper(gone)
    after = F.load_features(lib, KEEP, dense=False)
    assert len(fits) == 1
    assert not np.array_equal(row(after, protein), old)  # it now reads like a galaxy paper
    assert row(after, protein) @ row(after, galaxy) > old @ row(after, galaxy)
    assert after.rows([gone])[0] == -1 and len(after.pks) == len(pks) - 1
    assert np.array_equal(row(after, pks[2]), row(feats, pks[2]))  # the others untouched


def test_a_big_change_refits_the_vocabulary(fitted):
    lib, pks, feats, fits = fitted
    make_papers(lib, [("compilers", i, ["E F"], []) for i in range(30)])  # 75% more papers
    after = F.load_features(lib, KEEP, dense=False)
    assert len(fits) == 2
    assert "compiler" in after.vocabulary.terms and "compiler" not in feats.vocabulary.terms


def test_negatives_order_depends_on_paper_ids_not_row_ids(tmp_path):
    """The same papers inserted in another order get the same id-hash order."""
    specs = [(t, i, ["A B"], []) for t in ("proteins", "robots") for i in range(10)]
    orders = []
    for n, spec in enumerate((specs, specs[::-1])):
        lib = open_library(tmp_path / f"l{n}.db")
        make_papers(lib, spec)
        F.forget()
        feats = F.load_features(lib, dense=False)
        ids = dict(lib.conn.execute("SELECT pk, id FROM papers").fetchall())
        orders.append([ids[int(feats.pks[i])] for i in feats.hash_order])
        lib.close()
    assert orders[0] == orders[1]


def test_the_vocabulary_is_fitted_on_at_most_fit_sample_papers_first_by_id_hash(lib, monkeypatch):
    """Up to FIT_SAMPLE (120,000) papers the fit reads them all; beyond, the first by id hash."""
    sizes = []
    real = F.fit_vocabulary
    monkeypatch.setattr(
        F, "fit_vocabulary", lambda texts, *a, **k: sizes.append(len(texts)) or real(texts, *a, **k)
    )
    make_papers(lib, [(t, i, ["A B"], []) for t in ("proteins", "galaxies") for i in range(20)])
    F.forget()
    whole = F.load_features(lib, dense=False)
    monkeypatch.setattr(F, "FIT_SAMPLE", 15)
    F.forget()
    shutil.rmtree(F.cache_dir(lib))
    part = F.load_features(lib, dense=False)
    assert F.FIT_SAMPLE == 15 and sizes == [40, 15]
    sample = F._texts(lib, part.pks[np.sort(part.hash_order[:15])])
    assert part.vocabulary.terms == real(sample).terms != whole.vocabulary.terms


def test_features_cached_in_the_previous_format_are_rebuilt(fitted):
    """FORMAT 3 (the vocabulary fitted on up to 120,000 papers): a FORMAT 2 cache is refitted."""
    lib, pks, feats, fits = fitted
    meta = F.cache_dir(lib) / "meta.json"
    got = json.loads(meta.read_text())
    assert got["format"] == F.FORMAT == 3
    meta.write_text(json.dumps({**got, "format": 2}))
    F.forget()
    again = F.load_features(lib, KEEP, dense=False)
    assert len(fits) == 2 and json.loads(meta.read_text())["format"] == 3
    assert again.vocabulary.terms == feats.vocabulary.terms  # the same papers, the same fit


def test_policy_cut_offs_replace_the_size_based_ones():
    """min_df / max_df in the Policy (a dev round's) replace fit_vocabulary's own cut-offs."""
    texts = [f"shared words here topic{i % 10} rare{i}" for i in range(60)]
    default = F.fit_vocabulary(texts)  # 60 papers: min_df 2, max_df 0.5
    strict = F.fit_vocabulary(texts, F.Policy(min_df=7))
    loose = F.fit_vocabulary(texts, F.Policy(max_df=1.0))
    assert "topic3" in default.terms and "shared" not in default.terms
    assert "topic3" not in strict.terms and "topic3" in loose.terms and "shared" in loose.terms
