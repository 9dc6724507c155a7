"""Settings: one typed, declarative table (`Settings`), read once at the edge. Reads the environment
and `paperradar.toml` only; the one module that reads the environment.

Precedence: CLI flag > PAPERRADAR_* environment variable > `paperradar.toml` in the data directory
> default. The CLI reads the settings once in its callback, the web app once in its factory, and
they pass the `Settings` (or the few values a service needs) into the library. Passwords, tokens
and keys are `SecretStr`: their repr and JSON show `**********`. A value of the wrong type (a word
where a number belongs) is an `InvalidInput` naming the setting and its variable.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import InvalidInput

PREFIX = "PAPERRADAR_"


class Settings(BaseSettings):
    """Every setting paperradar reads, typed. `Settings()` reads the environment and the file;
    build one with `load_settings` (errors as InvalidInput) or, without either, `defaults()`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

    home: Path | None = Field(None, description="data directory (default: the per-user app data folder)")
    db: str | None = Field(None, description="library file (default: library.db in the data directory)")
    arxiv_api: str = Field("https://export.arxiv.org/api/query", description="arXiv API endpoint")
    hf_api: str = Field(
        "https://huggingface.co/api/daily_papers", description="Hugging Face Daily Papers endpoint"
    )
    arxiv_delay: float = Field(3.0, ge=0, description="seconds between arXiv API requests (arXiv asks for 3)")
    fetch_retries: int = Field(4, ge=0, description="retries of a failed request, with exponential backoff")
    sync_sources: str | None = Field(
        None, description="what `sync` fetches: arxiv:CATEGORY, arxiv-oai:SET, hf (comma-separated)"
    )
    arxiv_oai: str = Field("https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint")
    sync_days: int = Field(2, ge=0, description="days back the first sync of a source reaches")
    sync_max: int = Field(1000, ge=1, description="most papers one arXiv category brings in one sync")
    smtp_host: str = Field("localhost", description="SMTP server for digests")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="SMTP port (default: 465 for ssl, 587 for starttls, 25 for none)"
    )
    smtp_security: str = Field(  # checked when mail is sent (mail.py): a sync still runs
        "starttls", description="SMTP connection security: ssl, starttls or none"
    )
    smtp_user: str | None = Field(None, description="SMTP login (no login when unset)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (never printed)")
    mail_from: str | None = Field(None, description="sender address of digests")
    mail_to: str | None = Field(None, description="recipient address of digests")
    digest_size: int = Field(10, ge=1, description="papers in one digest")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="address of the web app, for links in digests"
    )
    link_secret: SecretStr | None = Field(
        None, description="secret that signs feedback links (default: one kept in the library)"
    )
    link_days: int = Field(30, ge=1, description="days a feedback link in a digest stays valid")
    webhooks: str | None = Field(
        None, description="digest webhooks, space-separated: KIND=URL or a URL (issue 15)"
    )
    matrix_token: SecretStr | None = Field(
        None, description="access token for Matrix webhooks (never printed)"
    )
    quality_import_max: int = Field(
        2000, ge=0, description="most new papers an import embeds by the quality tier"
    )
    zotero_user: str | None = Field(
        None, description="Zotero user id, for `import zotero:` and `sync zotero` (issue 14)"
    )
    zotero_key: SecretStr | None = Field(None, description="Zotero API key (never printed)")
    zotero_api: str = Field("https://api.zotero.org", description="Zotero web API endpoint")
    models: Path | None = Field(
        None, description="where the built models are (default: <checkout>/models, else <data folder>/models)"
    )
    no_worker: bool = Field(False, description="true: parse big imports in this process, not a second one")

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (the init arguments), then the environment, then paperradar.toml."""
        return init_settings, env_settings, InitSettingsSource(settings_cls, _file_settings())

    @property
    def data_dir(self) -> Path:
        return self.home if self.home is not None else Path(user_data_dir("paperradar", appauthor=False))

    @property
    def library_path(self) -> str:
        return self.db or str(self.data_dir / "library.db")

    def secret(self, name: str) -> str | None:
        """The plain text of a SecretStr setting (smtp_password, link_secret...), or None."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


@dataclass(frozen=True)
class Setting:
    """One row of the documented table (docs/cli.md's reference is generated from it)."""

    name: str
    default: str | None
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


def _shown(value: object) -> str | None:
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


SETTINGS = {
    name: Setting(name, _shown(f.default), f.description or "", "SecretStr" in str(f.annotation))
    for name, f in Settings.model_fields.items()
}


def data_dir() -> Path:
    """The data directory: $PAPERRADAR_HOME, else the per-user app folder (paperradar.toml lives here)."""
    home = os.environ.get(SETTINGS["home"].env)
    return Path(home) if home else Path(user_data_dir("paperradar", appauthor=False))


def _file_settings() -> dict[str, Any]:
    path = data_dir() / "paperradar.toml"
    if not path.exists():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"{path}: {e}") from e
    # a number or a boolean in the file is read as its text, like a variable's value would be
    return {k: str(v).lower() if isinstance(v, bool) else v for k, v in table.items() if k in SETTINGS}


def load_settings(**flags: Any) -> Settings:
    """The settings now: `flags` (the CLI's, None = not given) over the environment over the file."""
    given = {k: v for k, v in flags.items() if v is not None}
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise InvalidInput(f"no such setting: {', '.join(unknown)}")
    try:
        return Settings(**given)
    except ValidationError as e:
        raise _invalid(e) from None


def with_flags(settings: Settings, **flags: Any) -> Settings:
    """`settings` with the given flags (None = not given) in place of their values, validated."""
    given = {k: v for k, v in flags.items() if v is not None}
    try:
        return Settings.model_validate({**dict(settings), **given})
    except ValidationError as e:
        raise _invalid(e) from None


def defaults() -> Settings:
    """Every setting at its default, reading neither the environment nor the file."""
    return Settings.model_construct()


def _invalid(error: ValidationError) -> InvalidInput:
    """A ValidationError as one line per bad setting, naming its variable; a secret's value unshown."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        setting = SETTINGS.get(name)
        where = f"{name} ({setting.env} or paperradar.toml)" if setting else name
        shown = "" if setting is None or setting.secret else f", not {item.get('input')!r}"
        lines.append(f"setting {where}: {item['msg']}{shown}")
    return InvalidInput("; ".join(lines))


def library_path(flag: str | None = None) -> str:
    """The library's location: the --db flag, else the db setting, else library.db in the data directory."""
    return load_settings(db=flag).library_path
