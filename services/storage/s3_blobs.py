"""Image bytes in S3-compatible object storage (AWS S3, Cloudflare R2, Supabase Storage),
through boto3. Credentials stay in the client: every failure is turned into
``ChatCanvasError(BLOB_STORE)`` whose detail names the endpoint and bucket, never a key."""

from __future__ import annotations

from services.errors import ChatCanvasError
from services.storage.blobs import BlobMissing, S3Config, blob_error, checked_key

# What S3 (and the compatible services) answer, in words a deployer can act on.
_REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden", "403"}
_NO_BUCKET = {"NoSuchBucket"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3BlobStore:
    """Blobs as objects in one bucket, under an optional prefix."""

    def __init__(self, config: S3Config) -> None:
        import boto3
        from botocore.config import Config

        self.config = config
        self.bucket = config.bucket
        self.location = f"s3 {config.endpoint_url or 'AWS'} bucket {config.bucket}"
        self._secrets = tuple(
            k.reveal() for k in (config.access_key_id, config.secret_access_key) if k
        )
        options = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            # R2, Supabase and local servers want the bucket in the path, not the host name
            s3={"addressing_style": "path" if config.endpoint_url else "auto"},
            signature_version="s3v4",
        )
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint_url,
            region_name=config.region or "us-east-1",
            aws_access_key_id=config.access_key_id.reveal() if config.access_key_id else None,
            aws_secret_access_key=(
                config.secret_access_key.reveal() if config.secret_access_key else None
            ),
            config=options,
        )

    def _name(self, key: str) -> str:
        return self.config.prefix + checked_key(key)

    def _failure(self, exc: Exception, doing: str) -> ChatCanvasError:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = self.location
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NO_BUCKET:
                return blob_error(f"{where}: the bucket does not exist", self._secrets)
            if code in _REFUSED:
                return blob_error(f"{where}: the credentials were refused ({code})", self._secrets)
            return blob_error(f"{where}: {doing} failed ({code or 'error'})", self._secrets)
        if isinstance(exc, NoCredentialsError):
            return blob_error(f"{where}: no access key is configured", self._secrets)
        if isinstance(exc, BotoCoreError):
            return blob_error(f"{where}: cannot reach the storage ({type(exc).__name__})")
        return blob_error(f"{where}: {doing} failed ({type(exc).__name__})")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._name(key)
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            )
        except Exception as exc:
            raise self._failure(exc, "writing an image") from None

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        name = self._name(key)
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=name)
            return answer["Body"].read()
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING:
                raise BlobMissing(key) from None
            raise self._failure(exc, "reading an image") from None
        except Exception as exc:
            raise self._failure(exc, "reading an image") from None

    def delete(self, key: str) -> None:
        name = self._name(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            raise self._failure(exc, "deleting an image") from None
