"""Settings: one declarative table. Precedence: CLI flag > PAPERRADAR_* environment variable >
`paperradar.toml` in the data directory > default. Reads the environment and that file only.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from .errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str

    @property
    def env(self) -> str:
        return "PAPERRADAR_" + self.name.upper()


SETTINGS = {
    s.name: s
    for s in (
        Setting("home", None, "data directory (default: the per-user app data folder)"),
        Setting("db", None, "library file (default: library.db in the data directory)"),
        Setting("arxiv_api", "https://export.arxiv.org/api/query", "arXiv API endpoint"),
        Setting("hf_api", "https://huggingface.co/api/daily_papers", "Hugging Face Daily Papers endpoint"),
        Setting("arxiv_delay", "3.0", "seconds between arXiv API requests (arXiv asks for 3)"),
        Setting("fetch_retries", "4", "retries of a failed request, with exponential backoff"),
        Setting(
            "sync_sources", None, "what `sync` fetches: arxiv:CATEGORY, arxiv-oai:SET, hf (comma-separated)"
        ),
        Setting("arxiv_oai", "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint"),
        Setting("sync_days", "2", "days back the first sync of a source reaches"),
        Setting("sync_max", "1000", "most papers one arXiv category brings in one sync"),
        Setting("smtp_host", "localhost", "SMTP server for digests"),
        Setting("smtp_port", None, "SMTP port (default: 465 for ssl, 587 for starttls, 25 for none)"),
        Setting("smtp_security", "starttls", "SMTP connection security: ssl, starttls or none"),
        Setting("smtp_user", None, "SMTP login (no login when unset)"),
        Setting("smtp_password", None, "SMTP password (never printed)"),
        Setting("mail_from", None, "sender address of digests"),
        Setting("mail_to", None, "recipient address of digests"),
        Setting("digest_size", "10", "papers in one digest"),
        Setting("public_url", "http://127.0.0.1:8000", "address of the web app, for links in digests"),
        Setting("link_secret", None, "secret that signs feedback links (default: one kept in the library)"),
        Setting("link_days", "30", "days a feedback link in a digest stays valid"),
        Setting("webhooks", None, "digest webhooks, space-separated: KIND=URL or a URL (issue 15)"),
        Setting("matrix_token", None, "access token for Matrix webhooks (never printed)"),
        Setting("quality_import_max", "2000", "most new papers an import embeds by the quality tier"),
        Setting("zotero_user", None, "Zotero user id, for `import zotero:` and `sync zotero` (issue 14)"),
        Setting("zotero_key", None, "Zotero API key (never printed)"),
        Setting("zotero_api", "https://api.zotero.org", "Zotero web API endpoint"),
    )
}


def data_dir() -> Path:
    home = os.environ.get(SETTINGS["home"].env)
    return Path(home) if home else Path(user_data_dir("paperradar", appauthor=False))


def _file_settings() -> dict[str, object]:
    path = data_dir() / "paperradar.toml"
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"{path}: {e}") from e


def get(name: str, flag: str | None = None) -> str | None:
    """The value of a setting, by precedence."""
    setting = SETTINGS[name]
    if flag is not None:
        return flag
    if setting.env in os.environ:
        return os.environ[setting.env]
    value = _file_settings().get(name)
    return str(value) if value is not None else setting.default


def library_path(flag: str | None = None) -> str:
    return get("db", flag) or str(data_dir() / "library.db")
