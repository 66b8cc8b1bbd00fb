"""Settings: defaults, and production refusing unsafe configurations with a reason."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from carnet.core.errors import ConfigurationError
from carnet.runtime import build_runtime
from carnet.settings import Settings
from carnet.storage.keys import generate_keyring

# A production mail set-up (SMTP is the production default; the From address must be real).
PROD_NOTIFY = {"email_from": "Carnet <no-reply@carnet.example>"}


def test_defaults_are_a_laptop(tmp_path: Path) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path})
    assert settings.environment == "dev"
    assert settings.database_url == f"sqlite:///{tmp_path / 'carnet.sqlite3'}"
    assert settings.key_file == tmp_path / "keys" / "keyring.json"
    assert settings.client_secrets_allowed
    settings.check_safe_to_start()


def test_environment_variables_use_the_carnet_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARNET_DATABASE__URL", "postgresql://db.example/carnet")
    monkeypatch.setenv("CARNET_FHIR__MAX_BODY_BYTES", "2048")
    settings = Settings()
    assert settings.database_url == "postgresql://db.example/carnet"
    assert settings.fhir.max_body_bytes == 2048


def test_production_lists_every_unsafe_setting() -> None:
    settings = Settings.model_validate({"environment": "prod"})
    with pytest.raises(ConfigurationError) as refused:
        settings.check_safe_to_start()
    message = str(refused.value)
    for reason in (
        "CARNET_DATABASE__URL",
        "CARNET_STORAGE__KEY_FILE",
        "CARNET_AUTHZ__SIGNING_KEY_FILE",
        "https://",
        "CARNET_NOTIFY__EMAIL_FROM",
    ):
        assert reason in message


def test_production_refuses_sqlite_unless_allowed(tmp_path: Path) -> None:
    base = {
        "environment": "prod",
        "public_base_url": "https://carnet.example",
        "database": {"url": f"sqlite:///{tmp_path}/x.db"},
        "storage": {"key_file": str(tmp_path / "k.json")},
        "authz": {"signing_key_file": str(tmp_path / "s.json")},
        "notify": PROD_NOTIFY,
    }
    with pytest.raises(ConfigurationError, match="SQLite"):
        Settings.model_validate(base).check_safe_to_start()
    allowed = base | {
        "database": {"url": f"sqlite:///{tmp_path}/x.db", "allow_sqlite_in_prod": True}
    }
    Settings.model_validate(allowed).check_safe_to_start()


def test_production_refuses_a_generated_keyring(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    generate_keyring(keyring)
    settings = Settings.model_validate(
        {
            "environment": "prod",
            "public_base_url": "https://carnet.example",
            "data_dir": tmp_path,
            "database": {"url": f"sqlite:///{tmp_path}/x.db", "allow_sqlite_in_prod": True},
            "storage": {"key_file": str(keyring)},
            "authz": {"signing_key_file": str(tmp_path / "signing.json")},
            "notify": PROD_NOTIFY,
        }
    )
    with pytest.raises(ConfigurationError, match="generated for development"):
        build_runtime(settings, configure_logs=False)


def test_production_never_generates_missing_keys(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {
            "environment": "prod",
            "public_base_url": "https://carnet.example",
            "data_dir": tmp_path,
            "database": {"url": f"sqlite:///{tmp_path}/x.db", "allow_sqlite_in_prod": True},
            "storage": {"key_file": str(tmp_path / "absent.json")},
            "authz": {"signing_key_file": str(tmp_path / "signing.json")},
            "notify": PROD_NOTIFY,
        }
    )
    with pytest.raises(ConfigurationError, match="no key file"):
        build_runtime(settings, configure_logs=False)
    assert not (tmp_path / "absent.json").exists()


def test_dev_generates_private_keys_on_first_run(tmp_path: Path) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path, "environment": "test"})
    rt = build_runtime(settings, configure_logs=False)
    try:
        for path in (settings.key_file, settings.signing_key_file):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(settings.key_file.read_text())["generated"] is True
    finally:
        rt.close()
