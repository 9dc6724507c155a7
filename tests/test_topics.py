"""Topics on a planted corpus: the clusters, labels, stable ids across imports and rebuilds, trends.

The corpus is made here: four themes with their own vocabulary, dated over 12 months, one theme
(speech) growing sharply in the last three. Uses the real fast embedding tier (`make models`).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from paperradar.embed import fast_agreement, load_embedder, models_dir
from paperradar.importers.base import Source
from paperradar.index import update_index
from paperradar.ingest import import_source
from paperradar.storage import open_library
from paperradar.storage import topics as db
from paperradar.topics import build_topics, cluster, labels, trends, views

THEMES = {
    "quantum": (
        [
            "qubit",
            "surface code",
            "logical error rate",
            "stabilizer",
            "syndrome decoder",
            "quantum error correction",
        ],
        "quant-ph",
    ),
    "graphs": (
        [
            "graph neural network",
            "message passing",
            "node classification",
            "oversmoothing",
            "graph transformer",
        ],
        "cs.LG",
    ),
    "protein": (
        ["protein folding", "amino acid", "protein structure", "binding affinity", "molecular docking"],
        "q-bio.BM",
    ),
    "speech": (
        ["speech recognition", "acoustic model", "phoneme", "spoken language", "speaker diarization"],
        "eess.AS",
    ),
}
TEMPLATES = [
    "We study {a} and show how {b} changes when {c} is taken into account.",
    "Our analysis of {a} gives new bounds for {b}.",
    "Experiments on {a} and {c} confirm that {b} matters.",
    "This paper revisits {b} through the lens of {a}.",
]
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def paper_line(n: int, theme: str, month: str, rng: random.Random) -> str:
    words, category = THEMES[theme]
    a, b, c = rng.sample(words, 3)
    abstract = " ".join(rng.choice(TEMPLATES).format(a=a, b=b, c=c) for _ in range(4))
    title = f"{a.capitalize()} and {b}: part {n}"
    record = {
        "id": f"{2500 + int(month[5:7]):04d}.{n:05d}",
        "title": title,
        "abstract": abstract,
        "authors": [f"Author {theme.title()} {n % 7}"],
        "categories": [category],
        "listing_date": f"{month}-{1 + n % 27:02d}",
    }
    return json.dumps(record)


def write_corpus(
    path: Path, start: int = 0, months: list[str] = MONTHS, growth: bool = True
) -> dict[str, str]:
    """The planted corpus as an arXiv-snapshot JSONL file; returns {arxiv id: theme}."""
    rng = random.Random(start)
    lines, truth, n = [], {}, start
    for i, month in enumerate(months):
        for theme in THEMES:
            count = 8
            if theme == "speech" and growth:
                count = 30 if i >= len(months) - 3 else 4
            for _ in range(count):
                n += 1
                line = paper_line(n, theme, month, rng)
                lines.append(line)
                truth["arxiv:" + json.loads(line)["id"]] = theme
    path.write_text("\n".join(lines) + "\n")
    return truth


def need_models() -> None:
    if not (models_dir() / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no models in {models_dir()}: `make test` should have built them")
        pytest.skip("no embedding models: run `make models`")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """(path of an indexed library of the planted corpus, {paper id: theme})."""
    need_models()
    root = tmp_path_factory.mktemp("topics")
    truth = write_corpus(root / "corpus.jsonl")
    lib = open_library(root / "base.db")
    import_source(lib, Source.from_file(root / "corpus.jsonl"))
    update_index(lib, load_embedder("fast"))
    lib.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    lib.close()
    return root / "base.db", truth


@pytest.fixture
def lib(planted, tmp_path):
    path = tmp_path / "lib.db"
    shutil.copy(planted[0], path)
    library = open_library(path)
    yield library
    library.close()


def theme_topics(lib, truth) -> dict[str, Counter]:
    """For each theme, how many of its papers each fine topic holds."""
    pk_to_id = {pk: pid for pk, (pid, _) in db.paper_titles(lib, lib.list_pks()).items()}
    out: dict[str, Counter] = {t: Counter() for t in THEMES}
    a = db.assignments(lib)
    for pk, topic in zip(a.pk.tolist(), a.topic.tolist(), strict=True):
        out[truth[pk_to_id[pk]]][topic] += 1
    return out


def test_build_recovers_the_planted_themes_with_readable_labels(lib, planted):
    report = build_topics(lib, fine=4, broad=2)
    assert (report.papers, report.fine, report.broad) == (len(planted[1]), 4, 2)
    found = theme_topics(lib, planted[1])
    majority = {theme: counts.most_common(1)[0] for theme, counts in found.items()}
    # every theme sits (almost) whole in its own fine topic
    assert len({topic for topic, _ in majority.values()}) == 4
    for theme, (_, n) in majority.items():
        assert n >= 0.95 * sum(found[theme].values()), (theme, found[theme])
    label = {t.id: t.label for t in views.list_topics(lib, "fine")}
    for theme, (topic, _) in majority.items():
        phrases = label[topic].split(", ")
        assert len(phrases) == 3, label[topic]
        # each label phrase is (part of) one of the theme's own phrases: no template filler
        assert phrases and all(
            any(p in planted_phrase for planted_phrase in THEMES[theme][0]) for p in phrases
        ), label[topic]
    fine = views.list_topics(lib, "fine")
    broad_ids = {t.id for t in views.list_topics(lib, "broad")}
    assert fine and all(t.parent in broad_ids for t in fine)
    assert sum(t.size for t in fine) == len(planted[1])


def test_rising_finds_the_growing_theme_and_nothing_flat(lib, planted):
    build_topics(lib, fine=4, broad=2)
    speech = theme_topics(lib, planted[1])["speech"].most_common(1)[0][0]
    report = views.trends_report(lib)
    assert (report["window_from"], report["window_to"]) == ("2025-10", "2025-12")
    assert [r["id"] for r in report["rising"]] == [speech]
    top = report["rising"][0]
    assert top["recent"] == 90 and top["before"] == 36 and top["growth"] > 3


def test_topic_ids_survive_an_incremental_import_and_a_rebuild(lib, planted, tmp_path):
    build_topics(lib, fine=4, broad=2)
    before = {t: c.most_common(1)[0][0] for t, c in theme_topics(lib, planted[1]).items()}
    old_rows = db.assignments(lib)
    sizes = {t.id: t.size for t in views.list_topics(lib)}
    more = write_corpus(tmp_path / "more.jsonl", start=5000, months=["2026-01"], growth=False)
    import_source(lib, Source.from_file(tmp_path / "more.jsonl"))
    update_index(lib, load_embedder("fast"))
    after_import = views.list_topics(lib)  # reading assigns the new papers
    truth = {**planted[1], **more}
    found = theme_topics(lib, truth)
    for theme, topic in before.items():
        assert found[theme][topic] >= 0.95 * sum(found[theme].values()), theme
    new_sizes = {t.id: t.size for t in after_import}
    assert set(new_sizes) == set(sizes)
    assert sum(new_sizes[t.id] - sizes[t.id] for t in after_import if t.level == 2) == len(more)
    rows = db.assignments(lib)
    kept = np.isin(rows.pk, old_rows.pk)
    assert rows.topic[kept].tolist() == old_rows.topic.tolist()  # nobody was moved
    report = build_topics(lib, fine=4, broad=2)
    assert report.kept_ids == 6
    rebuilt = {t: c.most_common(1)[0][0] for t, c in theme_topics(lib, truth).items()}
    assert rebuilt == before


def test_map_points_are_spread_per_topic_and_highlight_is_kept(lib, planted):
    build_topics(lib, fine=4, broad=2)
    pk = lib.list_pks(limit=1)[0]
    data = views.map_points(lib, limit=50, highlight=[pk])
    assert data["total"] == len(planted[1])
    assert 50 <= len(data["points"]) <= 51 and sum(p["hit"] for p in data["points"]) == 1
    full = views.map_points(lib, limit=None)
    xy = {}
    for p in full["points"]:
        xy.setdefault(p["topic"], []).append((p["x"], p["y"]))
    centres = {t: np.mean(v, axis=0) for t, v in xy.items()}
    for t, pts in xy.items():
        own = np.linalg.norm(np.array(pts) - centres[t], axis=1).mean()
        nearest_other = min(np.linalg.norm(centres[t] - c) for o, c in centres.items() if o != t)
        assert own < 0.5 * nearest_other  # each topic is its own island on the map
        assert np.std(np.array(pts), axis=0).min() > 0  # and not a single dot


def test_show_topic_by_id_or_label(lib, planted):
    build_topics(lib, fine=4, broad=2)
    t = views.get_topic(lib, "Diarization")
    assert t.level == 2 and "speaker diarization" in t.terms
    shown = views.show_topic(lib, t.id, limit=3)
    assert shown["id"] == t.id and len(shown["central"]) == 3
    assert shown["months"][0] == "2025-01" and sum(shown["counts"]) == t.size


def test_small_topics_cannot_rise_by_noise():
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    rows = []
    for i, m in enumerate(months):
        rows.append((1, m, 100))  # big and flat
        rows.append((2, m, 1 if i < 9 else 3))  # tiny: x3 in the window, but only 9 papers
        rows.append((3, m, 40 if i < 9 else 70))  # medium, clearly growing
    rises, span = trends.rising(trends.monthly_series(rows))
    assert [r.topic for r in rises] == [3]
    assert span == {"window_from": "2025-10", "window_to": "2025-12", "before_from": "2025-01"}


def test_a_month_still_filling_is_left_out():
    rows = [(1, f"2025-{m:02d}", 50) for m in range(1, 7)] + [(1, "2025-07", 5)]
    series = trends.monthly_series(rows)
    assert trends.complete_months(series) == 6


def test_match_ids_keeps_ids_by_overlap_and_gives_new_ones():
    old = {7: {1, 2, 3, 4}, 9: {5, 6, 7, 8}}
    new = [{5, 6, 7, 9}, {1, 2, 3}, {20, 21}]
    ids, next_id = cluster.match_ids(old, new, next_id=10)
    assert ids == [9, 7, 10] and next_id == 11


def test_labels_chain_bigrams_and_drop_boilerplate_and_twins():
    ranked = [("large language", 90.0), ("language models", 88.0), ("proposed method", 80.0), ("image", 50.0),
              ("images", 45.0), ("language", 40.0), ("kv cache", 30.0)]  # fmt: skip
    usable = [p for p, _ in ranked if labels._usable(p)]
    assert "proposed method" not in usable
    out = labels._readable([(p, d) for p, d in ranked if p in usable], keep=5)
    assert out == ["large language models", "image", "kv cache"]


def test_a_subset_is_grouped_and_labelled_on_the_spot(lib, planted):
    from paperradar.topics.subset import cluster_papers

    by_id = {pid: pk for pk, (pid, _) in db.paper_titles(lib, lib.list_pks()).items()}
    chosen = [by_id[pid] for pid, theme in planted[1].items() if theme in ("quantum", "protein")]
    groups = cluster_papers(lib, chosen, k=2)
    assert sorted(g["size"] for g in groups) == [96, 96]
    for g in groups:
        themes = {planted[1][p["id"]] for p in g["papers"]}
        assert len(themes) == 1  # each group is one theme
        words = THEMES[themes.pop()][0]
        assert g["label"] and all(any(t in w for w in words) for t in g["label"].split(", "))
    assert db.topics(lib) == []  # nothing stored


def test_a_library_above_the_fitting_sample_is_fitted_on_part_and_every_paper_assigned(
    planted, tmp_path, monkeypatch
):
    """With the threshold lowered to 150 of the ~400 papers: topics fitted on a fixed sample, every
    paper assigned, the planted themes still found, labels present, and the same result twice,
    the second time streamed in batches of 64 vectors."""
    from paperradar.topics import sample

    builds = []
    for name in ("first", "second"):
        if name == "second":
            monkeypatch.setattr(sample, "BATCH", 64)
        shutil.copy(planted[0], tmp_path / f"{name}.db")
        library = open_library(tmp_path / f"{name}.db")
        report = build_topics(library, fine=4, broad=2, fit_sample=150)
        a = db.assignments(library)
        builds.append((report, a, views.list_topics(library, "fine"), theme_topics(library, planted[1])))
        assert sorted(a.pk.tolist()) == sorted(library.list_pks())  # every paper has a topic
        library.close()
    (report, a, fine, found), (_, again, fine_again, _) = builds
    assert report.papers == len(planted[1]) and 100 <= report.fitted_on <= 200
    for theme, counts in found.items():
        assert counts.most_common(1)[0][1] >= 0.95 * sum(counts.values()), (theme, counts)
    assert len({c.most_common(1)[0][0] for c in found.values()}) == 4
    assert len(fine) == 4 and all(len(t.label.split(", ")) == 3 for t in fine)
    assert sum(t.size for t in fine) == len(planted[1])
    assert a.topic.tolist() == again.topic.tolist() and np.array_equal(a.x, again.x)
    assert [t.label for t in fine] == [t.label for t in fine_again]


def test_label_jaccard_agrees_with_the_member_sets():
    old_pks, old_topic = np.array([1, 2, 3, 4, 5, 6, 7, 8]), np.array([7, 7, 7, 7, 9, 9, 9, 9])
    new_pks, new_labels = np.array([1, 2, 3, 5, 6, 7, 9, 20, 21]), np.array([1, 1, 1, 0, 0, 0, 0, 2, 2])
    old_ids, jac = cluster.label_jaccard(old_pks, old_topic, new_pks, new_labels, 3)
    sets = [set(new_pks[new_labels == c].tolist()) for c in range(3)]
    expected = cluster.jaccard_matrix([{1, 2, 3, 4}, {5, 6, 7, 8}], sets)
    assert old_ids == [7, 9] and np.allclose(jac, expected)
    assert cluster.ids_by_overlap(old_ids, jac, next_id=10) == ([9, 7, 10], 11)


def test_the_fitting_sample_is_a_fixed_share_of_pks_and_grows_by_inclusion():
    from paperradar.topics.sample import in_sample

    pks = np.arange(1, 200_001)
    small, big = in_sample(pks, 0.1), in_sample(pks, 0.3)
    assert abs(small.mean() - 0.1) < 0.005 and abs(big.mean() - 0.3) < 0.005
    assert not (small & ~big).any()  # a paper in a smaller sample is in every larger one
    halves = [in_sample(pks[:100_000], 0.1), in_sample(pks[100_000:], 0.1)]
    assert np.array_equal(np.concatenate(halves), small)  # a pk's membership depends on it alone


def test_topics_read_the_quality_vector_where_a_paper_has_one_and_assign_quality_only_imports(
    lib, planted, tmp_path
):
    """A library mostly on the fast tier with some papers upgraded by `paperradar index`: the build
    reads each paper's best vector (the quality tier's where it has one; its stored score is the
    cosine of that vector to its topic, not of its fast one; a fast vector's is divided by the
    tiers' agreement), and papers a small import embedded with the quality tier alone get a topic
    when topics are next read, scored the same way."""
    quality, fast = load_embedder("quality"), load_embedder("fast")
    upgraded = lib.list_pks()[:40]
    update_index(lib, quality, only=upgraded)
    report = build_topics(lib, fine=4, broad=2)
    assert report.models == (quality.model_id, fast.model_id)
    assert report.papers == len(planted[1])
    centroid = {t.id: t.centroid for t in db.topics(lib) if t.level == 2}
    a = db.assignments(lib)
    score = dict(zip(a.pk.tolist(), zip(a.topic.tolist(), a.score.tolist(), strict=True), strict=True))
    for model, pks in ((quality.model_id, upgraded), (fast.model_id, lib.list_pks()[40:80])):
        vectors = dict(lib.vectors_of(model, pks))
        assert len(vectors) == len(pks)
        for pk in pks:
            topic, stored = score[pk]
            cosine = float(np.frombuffer(vectors[pk], dtype=np.float32) @ centroid[topic])
            scale = 1.0 if model == quality.model_id else 1 / fast_agreement()
            assert stored == pytest.approx(cosine * scale, abs=1e-5), (model, pk)
    more = write_corpus(tmp_path / "more.jsonl", start=7000, months=["2026-01"], growth=False)
    import_source(lib, Source.from_file(tmp_path / "more.jsonl"))
    new = [pk for pk in lib.list_pks() if pk not in score]
    update_index(lib, quality, only=new)  # what a day's import does (index.import_tier)
    assert len(new) == len(more) and not dict(lib.vectors_of(fast.model_id, new))
    views.list_topics(lib)  # reading assigns the new papers
    found = theme_topics(lib, {**planted[1], **more})
    assert sum(sum(c.values()) for c in found.values()) == len(planted[1]) + len(more)
    a = db.assignments(lib)
    fresh = dict(lib.vectors_of(quality.model_id, new))
    for pk, topic, stored in zip(a.pk.tolist(), a.topic.tolist(), a.score.tolist(), strict=True):
        if pk in fresh:
            cosine = float(np.frombuffer(fresh[pk], dtype=np.float32) @ centroid[topic])
            assert stored == pytest.approx(cosine, abs=1e-5), pk


def test_a_fast_tier_from_another_space_is_not_mixed_with_the_quality_tier(lib):
    """Vectors of a fast tier other than the one built (an older table in its own space) are not
    read beside the quality tier's: topics then use the one main model (index.main_model)."""
    from paperradar.topics.build import topic_models

    quality, fast = load_embedder("quality"), load_embedder("fast")
    pks = lib.list_pks()
    old = "all-MiniLM-L6-v2/static-256@0ld0ld0ld0ld"
    with lib.transaction():
        lib.put_embeddings(old, [(pk, f"h{pk}", np.ones(256, dtype=np.float32).tobytes()) for pk in pks])
        lib.put_embeddings(
            quality.model_id, [(pk, f"h{pk}", np.ones(384, dtype=np.float32).tobytes()) for pk in pks[:10]]
        )
    assert topic_models(lib) == (quality.model_id, fast.model_id)
    with lib.transaction():
        lib.drop_embeddings(fast.model_id, pks)
    assert topic_models(lib) == (old,)


def test_broad_topics_group_the_fine_topics_whose_papers_cluster_together():
    """Three directions, two fine topics in each: the broad k-means of the papers puts each pair of
    fine topics under one broad topic, numbered from 0; a fine topic split between groups goes
    where most of its papers are."""
    rng = np.random.default_rng(1)
    axes = np.eye(8, dtype=np.float32)[:3]
    rows = np.repeat(axes, 60, axis=0) + 0.05 * rng.standard_normal((180, 8)).astype(np.float32)
    rows = cluster.normalize(rows).astype(np.float32)
    fine_of = np.repeat(np.arange(6), 30)  # fine topics 0,1 on axis 0; 2,3 on axis 1; 4,5 on axis 2
    fine_of[:5] = 2  # five papers of axis 0 in fine topic 2: its majority stays on axis 1
    broad_of = cluster.broad_by_papers(rows, fine_of, 6, 3)
    assert sorted(set(broad_of.tolist())) == [0, 1, 2]
    assert broad_of[0] == broad_of[1] and broad_of[2] == broad_of[3] and broad_of[4] == broad_of[5]
    assert len({broad_of[0], broad_of[2], broad_of[4]}) == 3
    assert cluster.broad_by_papers(rows, fine_of, 6, 6).tolist() == list(range(6))
    assert cluster.broad_by_papers(rows, fine_of, 6, 1).tolist() == [0] * 6
