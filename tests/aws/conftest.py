"""One export per test session, for a user id no other test uses (the moto server is shared)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pinpipe.aws import AwsExport, AwsOptions, AwsTarget, export_aws
from pinpipe.config import Settings

#: moto's account: API Gateway in moto refuses integration roles of other accounts.
ACCOUNT = "123456789012"
REST_PROXY_HOST = "ec2-3-80-10-20.compute-1.amazonaws.com"
OPTIONS = AwsOptions(account_id=ACCOUNT, rest_proxy_host=REST_PROXY_HOST)


@pytest.fixture(scope="session")
def uid() -> str:
    return "a" + uuid.uuid4().hex[:11]


@pytest.fixture(scope="session")
def settings(uid: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(user_id=uid, home=tmp_path_factory.mktemp("aws-home"))


@pytest.fixture(scope="session")
def target(settings: Settings) -> AwsTarget:
    return AwsTarget.build(settings, OPTIONS)


@pytest.fixture(scope="session")
def exported(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AwsExport:
    return export_aws(settings, tmp_path_factory.mktemp("export") / "infra", OPTIONS)


def read(export: AwsExport, path: str) -> str:
    return (export.directory / path).read_text(encoding="utf-8")


def file_path(export: AwsExport, path: str) -> Path:
    return export.directory / path
