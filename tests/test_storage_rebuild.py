"""`papers rebuild` on both backends (the storage contract's `demo` library, SQLite and PostgreSQL):
the papers come out the same, every row that refers to a paper follows it (profiles' papers,
feedback, seen marks, topic members, vectors of unchanged text), and a rebuild that fails leaves the
library as it was."""

# ruff: noqa: F811 - the tests take the imported `demo` fixture (both backends) by name
from __future__ import annotations

import numpy as np
import pytest

from paperradar import profiles as P
from paperradar.index import text_hash, text_of
from paperradar.papers import merge_papers, rebuild
from paperradar.storage import topics as T
from paperradar.storage.base import Library
from paperradar.storage.rebuild import REMADE
from test_storage_contract import _no_times, demo, demo_file, demo_template, exported, pg_url_from  # noqa: F401

LIKED, DISMISSED, SEEN, IN_TOPIC = (
    "arxiv:2310.01801",
    "arxiv:2405.12532",
    "arxiv:2407.08296",
    "arxiv:2404.19737",
)


def user_data(lib: Library) -> None:
    """A profile with a paper, feedback both ways and a seen mark, a topic with two members, a
    vector of a paper's text and one of text no paper has, and a user's merge."""
    P.create_profile(lib, "me", papers=[IN_TOPIC])
    P.give_feedback(lib, "me", LIKED, "like")
    P.give_feedback(lib, "me", DISMISSED, "not_interested")
    P.mark_seen(lib, "me", [lib.resolve(SEEN)])
    merge_papers(lib, LIKED, SEEN)  # the user's correction, made again by the rebuild
    liked, topical = lib.resolve(LIKED), lib.resolve(IN_TOPIC)
    texts = {pk: text_of(title, abstract) for pk, title, abstract in lib.paper_texts_of([liked])}
    vector = np.ones(4, dtype=np.float32).tobytes()
    with lib.transaction():
        T.replace_topics(lib, [T.TopicRow(1, 1, None, "memory", ["kv"], 2, None, None, None, None)])
        T.put_assignments(lib, [(liked, 1, 0.9, 0.1, 0.2), (topical, 1, 0.8, 0.3, 0.4)])
        lib.put_embeddings("m", [(liked, text_hash(texts[liked] or ""), vector), (topical, "stale", vector)])


def what_a_user_sees(lib: Library) -> dict[str, object]:
    me = P.get_profile(lib, "me")
    topics = T.topics_of(lib, [lib.resolve(LIKED), lib.resolve(IN_TOPIC)])
    return {
        "papers": sorted(_no_times(line) for line in exported(lib).splitlines()),
        "counts": lib.counts(),
        "profile": me.papers,
        "feedback": [(f.paper, f.kind) for f in me.feedback],
        "seen": me.seen,
        "topics": sorted(topics.values()),
        "same_paper": lib.resolve(LIKED) == lib.resolve(SEEN),
    }


def test_rebuild_keeps_the_papers_and_every_row_that_refers_to_one(demo):
    user_data(demo)
    before = what_a_user_sees(demo)
    assert before["same_paper"] and before["seen"] and before["topics"] == [1, 1]
    report = rebuild(demo)
    assert what_a_user_sees(demo) == before
    assert report["records"] == before["counts"]["records"] and report["papers"] == before["counts"]["papers"]
    carried = {r.table for r in demo.paper_refs()} - REMADE
    assert set(report["user_rows_kept"]) == carried  # found from the foreign keys, as merges find them
    assert all(
        report["user_rows_kept"][t] > 0 for t in ("profile_papers", "feedback", "seen", "paper_topics")
    )
    assert report["embeddings_kept"] == 1  # the stale vector's text is no paper's: embedded again later
    assert set(demo.embedding_hashes("m")) == {demo.resolve(LIKED)}
    assert demo.check_integrity() == []


def test_a_failed_rebuild_leaves_the_library_as_it_was(demo, monkeypatch):
    user_data(demo)
    before = what_a_user_sees(demo)
    real = demo.restore_paper_refs

    def restore_then_fail() -> dict[str, int]:
        real()  # every step done, the transaction not yet committed
        raise RuntimeError("the machine went away")

    monkeypatch.setattr(demo, "restore_paper_refs", restore_then_fail)
    with pytest.raises(RuntimeError, match="went away"):
        rebuild(demo)
    assert what_a_user_sees(demo) == before
    assert demo.embedding_models() == {"m": 2}
    monkeypatch.undo()
    assert rebuild(demo)["papers"] == before["counts"]["papers"]  # nothing left behind in the way
    assert what_a_user_sees(demo) == before
