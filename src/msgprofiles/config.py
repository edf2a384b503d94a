"""Settings, read once from `MSGPROFILES_*` environment variables (or passed explicitly)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MSGPROFILES_", extra="ignore")

    data_dir: Path = Path("msgprofiles-data")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path or postgresql://user@host:port/db; default: a SQLite file "
        "in data_dir.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    public_url: str | None = None

    redis_url: str | None = None
    rate_limit: str = Field(
        default="100/second",
        description="Per API key, in the `limits` notation, e.g. `100/second` or `5000/minute`.",
    )
    auth_failure_rate_limit: str = Field(
        default="60/minute",
        description="Wrong API keys per client address; past it, wrong keys get 429.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_import_bytes: int = Field(
        default=10 * 1024**3,
        ge=1_048_576,
        description="The largest file a contact import takes (it is stored until applied).",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="Request line and headers together; larger requests get 431.",
    )
    request_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="A request's headers and body must arrive within this many seconds of its "
        "first byte (and a new connection must start one); else 408 and the connection closes.",
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, description="An idle keep-alive connection closes after this long."
    )
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60)
    database_pool_size: int = Field(default=10, ge=1, le=200)
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0)

    secret_key: str | None = Field(
        default=None,
        description="Fernet key that encrypts stored secrets (webhook signing secrets). Default: "
        "a key generated once in data_dir/secret.key. Every process must use the same key.",
    )
    allow_private_webhooks: bool = Field(
        default=False,
        description="Allow webhook URLs on private, loopback and link-local addresses.",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_retry_schedule: list[float] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000, 36000],
        description="Seconds to wait before each retry of a failed delivery (±20 % jitter); "
        "about 24 hours in all, then the delivery is marked failed.",
    )
    webhook_disable_after_days: float = Field(default=5, gt=0)
    event_retention_days: float = Field(
        default=30,
        ge=0,
        description="How long events, their deliveries and delivery attempts are kept; 0 keeps "
        "them for ever. An event still being delivered (or held for a paused subscription) "
        "stays until its delivery ends.",
    )
    run_worker: bool = Field(default=True, description="Run a job worker inside `serve`.")
    worker_concurrency: int = Field(default=8, ge=1, le=256)
    job_lease_seconds: float = Field(
        default=10,
        gt=0,
        description="A worker renews the lease of each job it runs every third of this; a "
        "worker that stops renewing (killed, frozen, cut off) loses its jobs to the other "
        "workers this long after its last renewal.",
    )
    job_poll_seconds: float = Field(default=0.5, gt=0)
    import_processes: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Processes that read and check a contact import's records (JSON, email "
        "addresses, phone numbers: most of an import's work) beside each worker, started by "
        "an import and stopped after a minute without one. Default: one per CPU; 0 reads "
        "them in the worker's own process.",
    )
    sandbox_latency_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="How long the sandbox providers (TCR, carrier, WhatsApp) take to answer, "
        "to rehearse with realistic timing.",
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, GET /metrics asks for `Authorization: Bearer <token>`.",
    )
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's OpenTelemetry spans and metrics, for an installation that "
        "configures an OpenTelemetry SDK; off, it costs nothing per request.",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`msgprofiles worker` serves its own metrics (delivery attempts, "
        "commit-to-delivery latency) on this port of MSGPROFILES_HOST.",
    )

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] | None = None  # None: console on a terminal, else JSON
    access_log: bool = True

    @field_validator("database_url")
    @classmethod
    def _blank_is_default(cls, value: str | None) -> str | None:
        return value or None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'msgprofiles.sqlite3').resolve()}"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
