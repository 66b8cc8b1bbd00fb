"""One Settings object, made of per-area sections, read from ``CARNET_*`` environment variables.

Nested sections use ``__``: ``CARNET_DATABASE__URL``, ``CARNET_STORAGE__KEY_FILE``. Only the
entry points (``app``, ``cli``) build it; areas receive their section. In ``prod`` the process
refuses to start with generated or placeholder secrets, or with SQLite unless explicitly allowed,
and says why (``check_safe_to_start``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from carnet.authz.config import AuthzSettings
from carnet.core.config import DatabaseSettings, Environment, LoggingSettings
from carnet.core.db import is_sqlite
from carnet.core.errors import ConfigurationError
from carnet.documents.config import DocumentsSettings
from carnet.enrollment.config import EnrollmentSettings
from carnet.fhir.config import FhirSettings
from carnet.identity.accounts.config import AccountsSettings
from carnet.identity.federation.config import FederationSettings
from carnet.jobs.config import JobsSettings
from carnet.notify.config import NotifySettings
from carnet.storage.config import StorageSettings
from carnet.web.config import PortalSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CARNET_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    environment: Environment = "dev"
    """dev (a laptop), test (the suite), prod (anything real)."""
    public_base_url: str = "http://127.0.0.1:8000"
    """The URL users and clients reach Carnet at (issuer of tokens, FHIR base, links)."""
    data_dir: Path = Path("var")
    """Where the embedded database, blobs and development keys live."""
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    authz: AuthzSettings = Field(default_factory=AuthzSettings)
    fhir: FhirSettings = Field(default_factory=FhirSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    accounts: AccountsSettings = Field(default_factory=AccountsSettings)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    enrollment: EnrollmentSettings = Field(default_factory=EnrollmentSettings)
    documents: DocumentsSettings = Field(default_factory=DocumentsSettings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'carnet.sqlite3'}"

    @property
    def key_file(self) -> Path:
        return self.storage.key_file or self.data_dir / "keys" / "keyring.json"

    @property
    def signing_key_file(self) -> Path:
        return self.authz.signing_key_file or self.data_dir / "keys" / "token-signing.json"

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def generates_dev_keys(self) -> bool:
        """Whether missing key files may be generated (never in production)."""
        return not self.is_production

    @property
    def client_secrets_allowed(self) -> bool:
        if self.authz.allow_client_secrets is None:
            return not self.is_production
        return self.authz.allow_client_secrets

    @property
    def fhir_base_url(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/fhir"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure (and ``__Host-``) unless the public URL is plain http (dev)."""
        return urlsplit(self.public_base_url).scheme == "https"

    @property
    def json_logs(self) -> bool:
        if self.logging.json_lines is None:
            return self.is_production
        return self.logging.json_lines

    def check_safe_to_start(self) -> None:
        """Raise ConfigurationError listing every reason this configuration is unsafe."""
        if not self.is_production:
            return
        problems = []
        if self.database.url is None:
            problems.append("CARNET_DATABASE__URL is not set (production needs PostgreSQL)")
        elif is_sqlite(self.database_url) and not self.database.allow_sqlite_in_prod:
            problems.append(
                "the database is SQLite; use PostgreSQL, or set "
                "CARNET_DATABASE__ALLOW_SQLITE_IN_PROD=true for a single-machine deployment"
            )
        if self.storage.key_file is None:
            problems.append("CARNET_STORAGE__KEY_FILE is not set (the keyring is required)")
        if self.authz.signing_key_file is None:
            problems.append("CARNET_AUTHZ__SIGNING_KEY_FILE is not set")
        if self.authz.allow_client_secrets:
            problems.append("client secrets are not accepted in production (use private_key_jwt)")
        if urlsplit(self.public_base_url).scheme != "https":
            problems.append("CARNET_PUBLIC_BASE_URL must be an https:// URL in production")
        if self.storage.blob_backend == "memory":
            problems.append("the in-memory blob store loses documents at exit")
        problems.extend(self.notify.production_problems())
        problems.extend(self.federation.production_problems())
        if problems:
            raise ConfigurationError("refusing to start in prod: " + "; ".join(problems))


def load_settings() -> Settings:
    """Read the settings from the environment (only the entry points call this)."""
    return Settings()
