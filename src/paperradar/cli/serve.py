"""`paperradar serve`: the web app over the library (web/), on 127.0.0.1 unless told otherwise.

Bound to any other address it needs an access token: generated on first use, shown once, and
only its hash kept in the library (see web/security.py). On loopback it answers only to loopback
Host names (DNS rebinding); `--allowed-host` adds the name a reverse proxy forwards.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..storage import open_library, without_password
from . import app, err, library_location

KEEP_ALIVE_S = 75  # seconds an idle connection stays open


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback needs the access token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    new_token: Annotated[
        bool, typer.Option("--new-token", help="Make a new access token (the old one stops working).")
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A Host name browsers may use (repeat; '*' for any), e.g. behind a reverse proxy."
            " Default: loopback names, or any name on a server with a token.",
        ),
    ] = None,
) -> None:
    """Serve the web app: search, papers, recommendations, import and export in the browser."""
    import uvicorn

    from ..accounts import access_token_hash, new_access_token
    from ..web import create_app
    from ..web.security import is_loopback

    path = library_location()
    stored = None
    if not is_loopback(host) or new_token:
        lib = open_library(path)
        try:
            stored = access_token_hash(lib)
            if stored is None or new_token:
                token = new_access_token(lib)
                stored = access_token_hash(lib)
                err.print(
                    f"access token (shown once, keep it): [bold]{escape(token)}[/bold]", highlight=False
                )
            else:
                err.print("access token: the one shown when it was made (`--new-token` to replace it)")
        finally:
            lib.close()
    _say_accounts(path)
    web = create_app(path, token_hash=stored if not is_loopback(host) else None, allowed_hosts=allowed_host)
    # a postgresql:// address without its password (logs keep this line)
    shown = escape(without_password(path))
    err.print(f"paperradar: serving {shown} at http://{host}:{port}/ (Ctrl-C stops)", highlight=False)
    # browsers keep an idle connection for minutes: with uvicorn's 5 s, a request sent as the server
    # closes its side fails (a team load run saw it); 75 s is nginx's default
    uvicorn.run(
        web, host=host, port=port, log_level="warning", access_log=False, timeout_keep_alive=KEEP_ALIVE_S
    )


def _say_accounts(path: str) -> None:
    """With accounts (issue 16) everyone signs in as themselves; the access token is not taken."""
    from ..accounts import has_users

    lib = open_library(path)
    try:
        if has_users(lib):
            err.print("accounts: everyone signs in with their name and password (`paperradar users list`)")
    finally:
        lib.close()
