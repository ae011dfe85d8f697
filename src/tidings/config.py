"""One Settings object, read once (env vars `TIDINGS_*`, `*_FILE` secrets) and passed around.

Nothing here connects to anything: it only describes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tidings import PROJECT_URL, __version__

DEFAULT_USER_AGENT = f"Tidings/{__version__} (+{PROJECT_URL})"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_", extra="ignore", validate_default=True)

    # --- storage
    data_dir: Path = Field(default=Path("./tidings-data"), description="Where the SQLite database, caches and indexes live.")
    database_url: str = Field(
        default="",
        description="sqlite+aiosqlite:///path.db (default: DATA_DIR/tidings.db) or postgresql+asyncpg://user@host/db",
    )
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    secret_key: SecretStr = Field(default=SecretStr(""), description="Signs cookies and image-proxy URLs.")

    # --- web
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str = Field(default="", description="Public URL of the site, e.g. https://news.example.org")

    # --- accounts
    cookie_secure: bool | None = Field(
        default=None,
        description="Send cookies over HTTPS only (`__Host-` names). Default: on when BASE_URL is https://.",
    )
    session_days: int = Field(default=30, ge=1, description="How long a sign-in lasts before asking again.")
    max_failed_logins: int = Field(default=5, ge=1, description="Wrong passwords in a row that lock an account.")
    lockout_minutes: int = Field(default=15, ge=1, description="How long a locked account waits.")
    signins_per_minute: int = Field(default=10, ge=1, description="Sign-in attempts one client may make a minute.")
    signups_per_hour: int = Field(default=10, ge=1, description="Accounts one client may create an hour.")

    # --- comments
    comment_edit_window: int = Field(default=15, ge=0, description="Minutes an author may edit a comment.")
    comment_max_depth: int = Field(default=5, ge=0, le=20, description="Deepest reply level (top level is 0).")
    comment_max_chars: int = Field(default=10_000, ge=1, description="Longest comment, in characters.")

    # --- ingestion: politeness and limits
    user_agent: str = DEFAULT_USER_AGENT
    allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts or CIDR networks exempt from the SSRF guard (tests, intranet feeds). Comma-separated.",
    )
    max_response_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    total_timeout: float = Field(default=60.0, gt=0)
    global_concurrency: int = Field(default=32, ge=1)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_delay: float = Field(default=1.0, ge=0, description="Seconds between two requests to one host.")
    respect_robots: bool = True
    http2: bool = True

    # --- polling schedule
    min_poll_interval: int = Field(default=5 * 60, ge=1, description="Seconds.")
    max_poll_interval: int = Field(default=24 * 3600, ge=1, description="Seconds.")
    default_poll_interval: int = Field(default=30 * 60, ge=1, description="Seconds.")
    max_backoff: int = Field(default=24 * 3600, ge=1, description="Cap of the error backoff, seconds.")
    max_feed_errors: int = Field(default=10, ge=1, description="Consecutive failures before a feed is disabled.")
    fetch_articles: bool = Field(default=True, description="Download each article page for full text.")
    max_new_articles_per_poll: int = Field(default=100, ge=1)
    extract_processes: int = Field(
        default=-1, ge=-1, description="Extraction worker processes: -1 = one per core, 0 = a thread."
    )
    fetch_log_retention_days: int = Field(default=14, ge=1)

    # --- models
    embeddings_url: str = Field(
        default="", description="An OpenAI-compatible /v1/embeddings server; empty = the bundled offline model."
    )
    embeddings_model: str = Field(default="", description="Model name sent to the embeddings server.")
    embeddings_api_key: SecretStr = Field(default=SecretStr(""))

    # --- AI features (extractive always; generative when a chat endpoint is configured)
    llm_url: str = Field(
        default="",
        description="An OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp server); empty = extractive only.",
    )
    llm_model: str = Field(default="", description="Model name sent to the chat endpoint.")
    llm_api_key: SecretStr = Field(default=SecretStr(""))
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before a model answer falls back.")
    questions_per_minute: int = Field(default=10, ge=1, description="AI questions one client may ask a minute.")

    # --- understanding (stories, wire copies, related articles, hashtags)
    understanding_enabled: bool = Field(
        default=True, description="Embed, de-duplicate, cluster and tag new articles in the background."
    )
    analysis_processes: int = Field(
        default=1, ge=0, description="Processes that hold the embedding model: 0 = a thread of this process."
    )
    story_window_days: int = Field(default=7, ge=1, description="How long a story stays open to new articles.")
    duplicate_window_days: int = Field(default=14, ge=1, description="How far back reprints are looked for.")
    hnsw_threshold: int = Field(
        default=20_000, ge=1, description="Vectors above which related-article search switches to HNSW."
    )

    # --- distributed mode
    queue_url: str = Field(
        default="",
        description="redis://host:6379/0 to poll feeds in `tidings worker` processes instead of in `serve`.",
    )
    queue_namespace: str = Field(default="tidings", description="Redis key prefix of the queue.")
    worker_threads: int = Field(default=8, ge=1, description="Polls in flight per `tidings worker` process.")

    # --- process
    load_default_sources: bool = Field(default=True, description="Load the bundled OPML into an empty database.")
    scheduler_enabled: bool = True
    log_level: str = "INFO"

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """`TIDINGS_X_FILE=/run/secrets/x` reads X from that file (Docker/Kubernetes secrets)."""
        if not isinstance(data, dict):
            return data
        for name in ("secret_key", "database_url", "queue_url", "embeddings_api_key", "llm_api_key"):
            path = os.environ.get(f"TIDINGS_{name.upper()}_FILE")
            if path and name not in data:
                data[name] = Path(path).read_text(encoding="utf-8").strip()
        return data

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'tidings.db').as_posix()}"
        if self.min_poll_interval > self.max_poll_interval:
            raise ValueError("min_poll_interval must not exceed max_poll_interval")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Unless told, cookies are Secure exactly when the public URL is https: a local
        http://127.0.0.1 set-up (no BASE_URL) still signs in, a public https site never leaks a cookie."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.base_url.lower().startswith("https://")

    def signing_key(self) -> bytes:
        """The secret key, or a per-data-dir random one generated on first use."""
        if self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(32).hex().encode())
            path.chmod(0o600)
        return path.read_bytes()
