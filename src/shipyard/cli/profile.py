"""The ``shipyard`` AWS profile: where boto3 and the AWS CLI learn the endpoint and keys."""

from __future__ import annotations

import configparser
import io
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Profile:
    """One AWS profile: a ``[profile NAME]`` in the config file and ``[NAME]`` in credentials."""

    name: str
    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str
    ca_bundle: str = ""

    def config_section(self) -> dict[str, str]:
        section = {"region": self.region, "endpoint_url": self.endpoint_url}
        if self.ca_bundle:
            section["ca_bundle"] = self.ca_bundle
        return section

    def credentials_section(self) -> dict[str, str]:
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}

    def render(self) -> str:
        """Both files' sections as text, for ``shipyard configure --print``."""
        config, credentials = configparser.ConfigParser(), configparser.ConfigParser()
        config[_config_section_name(self.name)] = self.config_section()
        credentials[self.name] = self.credentials_section()
        out = io.StringIO()
        out.write(f"# {config_path()}\n")
        config.write(out)
        out.write(f"# {credentials_path()}\n")
        credentials.write(out)
        return out.getvalue()


def config_path() -> Path:
    """The AWS config file, as boto3 finds it (``AWS_CONFIG_FILE`` wins)."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_path() -> Path:
    """The AWS credentials file, as boto3 finds it (``AWS_SHARED_CREDENTIALS_FILE`` wins)."""
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def profile_exists(name: str) -> bool:
    return _read(config_path()).has_section(_config_section_name(name)) or _read(credentials_path()).has_section(name)


def write_profile(profile: Profile, *, force: bool = False) -> bool:
    """Add ``profile`` to the AWS files, keeping every other section.

    An existing profile of that name is replaced only with ``force``; returns whether the
    files were written.
    """
    if profile_exists(profile.name) and not force:
        return False
    _update(config_path(), _config_section_name(profile.name), profile.config_section(), mode=0o644)
    _update(credentials_path(), profile.name, profile.credentials_section(), mode=0o600)
    return True


def _config_section_name(name: str) -> str:
    return "default" if name == "default" else f"profile {name}"


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        parser.read(path)
    return parser


def _update(path: Path, section: str, values: dict[str, str], *, mode: int) -> None:
    parser = _read(path)
    parser[section] = values
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".shipyard-tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as handle:
        parser.write(handle)
    os.replace(temporary, path)
