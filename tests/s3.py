"""A real S3-compatible server for the tests: moto's server (``moto[server]``, pinned in
requirements-dev.txt) in its own process on 127.0.0.1, started once per session and stopped
at its end. It checks credentials: its first three requests, made here, create a user with an
access key allowed everything in S3; after that a wrong key is refused as AWS refuses it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from services.settings import Secret
from services.storage.blobs import S3Config

# the unauthenticated requests the server allows before it checks every signature
_SETUP_REQUESTS = 3


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str

    def client(self, service: str = "s3"):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}),
        )

    def config(self, bucket: str, **changes) -> S3Config:
        values = {
            "bucket": bucket,
            "endpoint_url": self.endpoint_url,
            "region": "us-east-1",
            "access_key_id": Secret(self.access_key_id),
            "secret_access_key": Secret(self.secret_access_key),
        }
        return S3Config(**(values | changes))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the S3 test server stopped while starting")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the S3 test server did not start")


def _user_with_a_key(endpoint_url: str) -> tuple[str, str]:
    import boto3

    iam = boto3.session.Session().client(
        "iam",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam.create_user(UserName="chatcanvas")
    key = iam.create_access_key(UserName="chatcanvas")["AccessKey"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    policy["Statement"][0]["Resource"] = "*"
    iam.put_user_policy(UserName="chatcanvas", PolicyName="s3", PolicyDocument=json.dumps(policy))
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free port of 127.0.0.1, checking credentials."""
    pytest.importorskip("moto.server", reason="pip install -r requirements-dev.txt")
    port = _free_port()
    env = os.environ | {"INITIAL_NO_AUTH_ACTION_COUNT": str(_SETUP_REQUESTS)}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        yield S3Server(endpoint, *_user_with_a_key(endpoint))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3_config(s3_server: S3Server) -> S3Config:
    """A new empty bucket on the test server, as the app's S3 configuration."""
    bucket = f"chatcanvas-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    return s3_server.config(bucket)
