"""`paperradar users add|list|remove|password|token|give`: accounts for a team server (accounts.py).

Passwords are read from a hidden prompt (asked twice) or, when stdin is not a terminal, from the
first line of stdin: never from the command line, where `ps` and shell history would keep them.
A new API token is printed once to stdout; only its hash is kept.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from .. import accounts
from . import JsonFlag, app, err, library, out, print_json

users_app = typer.Typer(
    help="Accounts for a team server: each user sees only their own profiles and digests.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

NameArg = Annotated[str, typer.Argument(help="The user's name (letters, digits, '.', '_', '@', '-').")]


def read_password() -> str:
    """From a hidden prompt asked twice, or the first line of stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@users_app.command("add")
def add_cmd(
    name: NameArg,
    admin: Annotated[bool, typer.Option("--admin", help="May import, sync and manage users.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Add a user; the password is asked for (or read from stdin's first line)."""
    password = read_password()
    with library() as lib:
        user = accounts.add_user(lib, name, password, admin=admin)
    if json_out:
        print_json({"ok": True, "user": {"name": user.name, "admin": user.admin}})
    else:
        role = "admin" if user.admin else "user"
        err.print(f"added {role} [bold]{escape(user.name)}[/bold]", highlight=False)


@users_app.command("list")
def list_cmd(json_out: JsonFlag = False) -> None:
    """Every user: role, profiles owned, API tokens, open sessions, last sign-in."""
    with library() as lib:
        rows = [accounts.summary_json(s) for s in accounts.list_users(lib)]
    if json_out:
        print_json({"ok": True, "total": len(rows), "items": rows})
        return
    if not rows:
        err.print("no users: the web app is single-user (see `paperradar users add`)")
    for r in rows:
        role = "admin" if r["admin"] else "user"
        last = r["last_login_at"] or "never signed in"
        out.print(
            f"{escape(str(r['name']))}\t{role}\t{r['profiles']} profiles\t{r['tokens']} tokens\t{last}",
            highlight=False,
        )


@users_app.command("remove")
def remove_cmd(name: NameArg, json_out: JsonFlag = False) -> None:
    """Remove a user with their sessions and tokens. Their profiles stay, owned by nobody: admins see them."""
    with library() as lib:
        kept = accounts.owned_profiles(lib, name)
        user = accounts.remove_user(lib, name)
    if json_out:
        print_json({"ok": True, "removed": user.name, "profiles_unowned": kept})
    else:
        err.print(f"removed {escape(user.name)}; profiles now owned by nobody: {len(kept)}", highlight=False)


@users_app.command("password")
def password_cmd(name: NameArg) -> None:
    """Set a new password (asked for, or read from stdin); the user's open sessions end."""
    password = read_password()
    with library() as lib:
        user = accounts.set_password(lib, name, password)
    err.print(f"new password for {escape(user.name)}; their sessions ended", highlight=False)


@users_app.command("token")
def token_cmd(
    name: NameArg,
    label: Annotated[str, typer.Option(help="What the token is for (shown nowhere secret).")] = "",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Delete all the user's API tokens instead.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Make an API token for the user (printed once: `Authorization: Bearer TOKEN`), or --revoke all."""
    with library() as lib:
        if revoke:
            count = accounts.revoke_tokens(lib, name)
            if json_out:
                print_json({"ok": True, "revoked": count})
            else:
                err.print(f"revoked {count} tokens")
            return
        token = accounts.new_api_token(lib, name, label)
    if json_out:
        print_json({"ok": True, "user": name, "token": token})
    else:
        err.print("API token (shown once, keep it):", highlight=False)
        out.print(token, highlight=False)


@users_app.command("give")
def give_cmd(
    name: Annotated[str, typer.Argument(help="The user who gets the profiles; '-' for nobody (admins).")],
    profiles: Annotated[list[str], typer.Argument(help="Profile names.")],
) -> None:
    """Give profiles to a user (e.g. those made before accounts existed, which only admins see)."""
    with library() as lib:
        accounts.give_profiles(lib, None if name == "-" else name, profiles)
    err.print(f"{len(profiles)} profiles now owned by {escape(name)}", highlight=False)
