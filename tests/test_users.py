"""`paperradar users ...` (issue 16): accounts are added, listed, given tokens and removed from the
CLI; passwords come from stdin or a prompt, never argv, and no secret is stored in clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperradar import accounts, profiles
from paperradar.errors import NotFound, RadarError
from paperradar.storage import delivery, open_library
from paperradar.storage import users as store

PASSWORD = "correct horse battery"


def test_add_list_token_remove(cli, db_path):
    added = cli("users", "add", "alice", "--admin", "--json", input=PASSWORD + "\n")
    assert added.exit_code == 0 and json.loads(added.stdout)["user"] == {"name": "alice", "admin": True}
    assert cli("users", "add", "bob", input=PASSWORD + "\n").exit_code == 0
    token = cli("users", "token", "bob", "--label", "laptop").stdout.strip()
    assert token.startswith("prt_") and len(token) > 40

    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(u["name"], u["admin"], u["tokens"]) for u in listed["items"]] == [
        ("alice", True, 0),
        ("bob", False, 1),
    ]
    raw = b"".join(p.read_bytes() for p in Path(db_path).parent.glob(Path(db_path).name + "*"))
    assert PASSWORD.encode() not in raw and token.encode() not in raw  # only hashes are kept
    lib = open_library(db_path)
    try:
        stored = store.password_hash(lib, "bob")
        assert stored is not None and stored[1].startswith("$argon2id$")
        assert accounts.token_user(lib, token).name == "bob"  # type: ignore[union-attr]
    finally:
        lib.close()

    removed = cli("users", "remove", "bob", "--json")
    assert json.loads(removed.stdout)["removed"] == "bob"
    lib = open_library(db_path)
    try:
        assert accounts.token_user(lib, token) is None  # the token went with the user
    finally:
        lib.close()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "add", "dave"], "short\n", "8 to 1000 characters"),
        (["users", "add", "Carol"], PASSWORD + "\n", "exists already"),  # names ignore case
        (["users", "add", "no spaces"], PASSWORD + "\n", "bad user name"),
        (["users", "remove", "nobody"], "", "no user named"),
        (["users", "token", "nobody"], "", "no user named"),
    ],
)
def test_bad_passwords_names_and_duplicates_are_refused(cli, args, stdin, message):
    assert cli("users", "add", "carol", input=PASSWORD + "\n").exit_code == 0
    with pytest.raises(RadarError, match=message):  # the CLI's handler prints it as "Error: ..."
        cli(*args, input=stdin)


def test_password_change_ends_sessions_and_give_moves_profiles(cli, db_path):
    cli("users", "add", "erin", input=PASSWORD + "\n")
    lib = open_library(db_path)
    try:
        session = accounts.start_session(lib, store.get_user(lib, "erin"))
        profiles.create_profile(lib, "old-profile")  # made from the CLI: owned by nobody
    finally:
        lib.close()
    assert cli("users", "password", "erin", input="a brand new one\n").exit_code == 0
    assert cli("users", "give", "erin", "old-profile").exit_code == 0
    lib = open_library(db_path)
    try:
        assert accounts.session_user(lib, session) is None
        assert accounts.check_password(lib, "erin", "a brand new one") is not None
        assert accounts.check_password(lib, "erin", PASSWORD) is None
        assert store.owned_profiles(lib, store.get_user(lib, "erin").pk) == ["old-profile"]
    finally:
        lib.close()
    assert json.loads(cli("users", "list", "--json").stdout)["items"][0]["profiles"] == 1


def test_accounts_on_both_backends(any_lib):
    """The storage of accounts (storage/users.py) on SQLite and PostgreSQL: scoping, ownership,
    sessions, tokens, removal, and a deleted profile's digests."""
    lib = any_lib
    assert store.has_users(lib) is False
    alice = accounts.add_user(lib, "alice", PASSWORD)
    root = accounts.add_user(lib, "root", PASSWORD, admin=True)
    with store.viewing_as(alice):
        profiles.create_profile(lib, "hers")
    profiles.create_profile(lib, "nobodys")  # no viewer (the CLI): owned by nobody
    seen = {}
    for who in (alice, root, None):
        with store.viewing_as(who):
            seen[who.name if who else "cli"] = [p.name for p in profiles.list_profiles(lib)]
    assert seen == {"alice": ["hers"], "root": ["nobodys"], "cli": ["hers", "nobodys"]}
    with store.viewing_as(alice), pytest.raises(NotFound):
        profiles.get_profile(lib, "nobodys")

    session = accounts.start_session(lib, alice)
    assert accounts.session_user(lib, session) == store.get_user(lib, "alice")
    store.insert_session(
        lib, alice.pk, "sha256:old", "2020-01-01T00:00:00+00:00", "2020-01-31T00:00:00+00:00"
    )
    assert store.session_user(lib, "sha256:old", "2026-01-01T00:00:00+00:00") is None  # expired
    token = accounts.new_api_token(lib, "alice")
    assert accounts.token_user(lib, token).pk == alice.pk  # type: ignore[union-attr]

    with lib.transaction():
        delivery.create_digest(
            lib, "hers", created_at="2026-01-01", since=None, last_paper_pk=0, message_id="<m@x>", items=[]
        )
    accounts.remove_user(lib, "alice")
    assert accounts.session_user(lib, session) is None and accounts.token_user(lib, token) is None
    with store.viewing_as(root):  # her profile is nobody's now: the admins'
        assert [p.name for p in profiles.list_profiles(lib)] == ["hers", "nobodys"]
    assert len(delivery.digests_of(lib, "hers")) == 1
    profiles.delete_profile(lib, "hers")
    assert delivery.digests_of(lib, "hers") == []  # a new "hers" would not inherit them
