"""The web app: server-rendered pages and a JSON API over the same service functions as the CLI.

`create_app(lib_path)` builds it (app.py lists the routers); `paperradar serve` runs it.
"""

from __future__ import annotations

from .app import ROUTERS, create_app

__all__ = ["ROUTERS", "create_app"]
