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
from paperradar.papers import merge_papers, rebuild, split_paper
from paperradar.storage import delivery
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


def _by_id(lib: Library, column: str) -> dict[str, str]:
    return {r[0]: r[1] for r in lib.conn.execute(f"SELECT id, {column} FROM papers")}


def test_rebuild_keeps_when_each_paper_was_added(demo):
    """A plain `recommend NAME` and a first digest take the papers added since a time: after a
    rebuild only those added since are new, not the whole library. Every paper's updated_at
    moves past the newest one before, even one in this very second (caches key on it)."""
    merge_papers(demo, LIKED, SEEN)
    newest = "2031-01-01T00:00:00+00:00"  # as if the last change were in the rebuild's second
    with demo.transaction():
        for pk in list(demo.all_pks()):
            added = f"2021-01-{pk % 28 + 1:02d}T00:00:00+00:00"
            demo.conn.execute(
                "UPDATE papers SET created_at = ?, updated_at = ? WHERE pk = ?", (added, newest, pk)
            )
    added = _by_id(demo, "created_at")
    rebuild(demo)
    assert _by_id(demo, "created_at") == added
    assert delivery.papers_added_since(demo, "2022-01-01T00:00:00+00:00") == []
    assert set(_by_id(demo, "updated_at").values()) == {"2031-01-01T00:00:01+00:00"}


def _sent_digest(lib: Library, last_paper_pk: int) -> None:
    when = "2026-01-01T00:00:00+00:00"
    pk = delivery.create_digest(
        lib, "me", created_at=when, since=None, last_paper_pk=last_paper_pk, message_id="<m@x>", items=[]
    )
    delivery.mark_sent(lib, pk, "me@example.org", when)


def _next_digest_papers(lib: Library) -> set[str]:
    last = delivery.last_sent(lib, "me")
    assert last is not None
    return {_id_of(lib, pk) for pk in delivery.papers_added_since(lib, None, last.last_paper_pk)}


@pytest.mark.parametrize("mark", ["below the merged paper", "the newest paper"])
def test_the_next_digest_skips_no_paper_after_a_rebuild(demo, mark):
    """A sent digest's last_paper_pk (the next digest takes larger pks) is no foreign key: the
    rebuild maps it onto the new pks. Here the merged paper gets an earlier pk and the split-off
    paper (the newest) one in the middle: no paper the digest had not seen is skipped, and
    after a digest that saw every paper, the next paper imported is new."""
    merged = merge_papers(demo, LIKED, SEEN)
    split_paper(demo, merged.id, [demo.records_of(demo.resolve(merged.id))[-1].key[:12]])
    pks = sorted(demo.all_pks())
    _sent_digest(demo, demo.resolve(LIKED) - 1 if mark == "below the merged paper" else pks[-1])
    unseen = _next_digest_papers(demo)
    assert (merged.id in unseen) == (mark == "below the merged paper")
    rebuild(demo)
    assert demo.resolve(LIKED) < pks[-1] and sorted(demo.all_pks()) != pks  # the pks did move
    assert unseen <= _next_digest_papers(demo)
    if mark == "the newest paper":
        assert delivery.last_sent(demo, "me").last_paper_pk == max(demo.all_pks())  # type: ignore[union-attr]


def _id_of(lib: Library, pk: int) -> str:
    return str(lib.conn.execute("SELECT id FROM papers WHERE pk = ?", (pk,)).fetchone()[0])
