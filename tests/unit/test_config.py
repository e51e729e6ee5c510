"""Settings: defaults, environment, TOML file, flags, and their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import Settings, load_settings


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port, settings.region) == ("127.0.0.1", 8600, "us-east-1")
    assert settings.endpoint_url == "http://127.0.0.1:8600"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith(".shipyard/shipyard.db")


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('port = 9001\nregion = "eu-west-1"\nlog_level = "debug"\n')
    env = {"SHIPYARD_DATA_DIR": str(tmp_path), "SHIPYARD_PORT": "9002"}
    settings = load_settings({"port": 9003, "host": None}, environ=env)
    assert settings.port == 9003
    assert settings.region == "eu-west-1"
    assert settings.log_level == "debug"
    assert settings.data_dir == tmp_path
    assert load_settings(environ=env).port == 9002


def test_config_file_named_by_env(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('base_domain = "s3.example.test"\n')
    assert load_settings(environ={"SHIPYARD_CONFIG": str(path)}).base_domain == "s3.example.test"


def test_unknown_file_setting_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("prot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        load_settings(environ={"SHIPYARD_DATA_DIR": str(tmp_path)})


def test_https_and_wildcard_endpoint() -> None:
    settings = Settings(host="0.0.0.0", port=9443, tls_cert="c.pem", tls_key="k.pem")
    assert settings.endpoint_url == "https://127.0.0.1:9443"
    assert Settings(host="::1").endpoint_url == "http://[::1]:8600"
