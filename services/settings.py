"""Settings and secrets.

Configuration enters at the edge: app.py gathers the sidebar values, ``st.secrets`` and the
environment (with ``.env`` loaded) and calls :func:`resolve_settings` once per rerun. Nothing
below the router reads ``os.environ`` or ``st.secrets`` on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from services.errors import MIN_SECRET_CHARS, ChatCanvasError, mask_url_passwords, url_passwords

if TYPE_CHECKING:
    from services.images.servers import ImageServer
    from services.storage.blobs import BlobConfig

DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / 'data' / 'chatcanvas.db'}"
)
DEFAULT_KARLO_BASE_URL = "https://api.kakaobrain.com"
LOCAL_OWNER = "local"
KEY_NAMES = ("OPENAI_API_KEY", "KAKAO_REST_API_KEY")
# where a person makes each key (the first-run panel links to them)
KEY_PAGES = {
    "OPENAI_API_KEY": "https://platform.openai.com/api-keys",
    "KAKAO_REST_API_KEY": "https://developers.kakao.com/console/app",
}


class Mode(StrEnum):
    """Local: one owner, no sign-in, served on 127.0.0.1. Shared: an ``[auth]`` section in the
    secrets turns on sign-in; every visitor is an owner of their own."""

    LOCAL = "local"
    SHARED = "shared"


@dataclass(frozen=True)
class Limits:
    """What one signed-in user may spend of the deployer's keys (shared mode only)."""

    daily_budget_usd: float = 1.00  # 0 = unlimited
    max_lanes: int = 4
    max_images_per_lane: int = 2
    karlo_monthly_images: int = 50  # per user; Kakao's free quota was 500 a month per app


@dataclass(frozen=True)
class Access:
    """Who may sign in to a shared deployment, and who administers it (lower-case emails)."""

    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    admin_emails: frozenset[str] = frozenset()


class Secret:
    """A string that will not print itself: repr/str/format show a mask, never the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that must send it (an HTTP header)."""
        return self._value

    def masked(self) -> str:
        """A hint safe to show: the first three and last four characters at most."""
        v = self._value
        if len(v) <= 12:
            return "•" * 8
        return f"{v[:3]}…{v[-4:]}"

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling would write the value somewhere: refuse
        raise TypeError("Secret values are not picklable")


@dataclass(frozen=True)
class Settings:
    """Everything the services need from the outside world, resolved once per rerun."""

    openai_api_key: Secret | None = None
    openai_base_url: str | None = None
    kakao_rest_api_key: Secret | None = None
    karlo_base_url: str = DEFAULT_KARLO_BASE_URL
    # may hold a PostgreSQL password: never in repr; show masked_database_url instead
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    owner_id: str = LOCAL_OWNER
    mode: Mode = Mode.LOCAL
    # a base URL typed in the sidebar; always allowed locally, opt-in on a shared deployment
    allow_custom_base_url: bool = True
    limits: Limits = field(default_factory=Limits)
    access: Access = field(default_factory=Access)
    # hosts (besides the provider's own) that image URLs in a provider's answer may point to
    image_download_hosts: tuple[str, ...] = ()
    # diffusers folders the deployer offers on the local engine (LOCAL_IMAGE_MODELS, comma-separated)
    local_image_models: tuple[str, ...] = ()
    # where each value came from ("sidebar", "secrets", "environment"), for the status panel
    sources: Mapping[str, str] = field(default_factory=dict)
    # values that were set but not used, by where they were set (shown in the status panel)
    ignored: Mapping[str, str] = field(default_factory=dict)
    # demo mode: keys and base URLs point at the built-in fake providers (demo/), own database
    demo: bool = False
    # OpenAI-compatible image servers: the deployer's (IMAGE_SERVERS), and why the value could
    # not be used (an English detail, shown translated); a person's one-off server from the
    # lane form, held only in their browser session
    image_servers: tuple[ImageServer, ...] = ()
    image_servers_problem: str | None = None
    custom_image_server: ImageServer | None = None
    # check image prompts (and generated images, on request) with the moderation model before
    # paying; MODERATION_CHECK on/off, on by default when shared. Compare's toggle starts here.
    moderation_check: bool = False
    # a grid's cells running at once (GRID_CONCURRENCY), and the estimated cost above which
    # a grid asks before it runs (GRID_CONFIRM_USD)
    grid_concurrency: int = 2
    grid_confirm_usd: float = 0.50
    # where image bytes go (BLOB_DIR, or an [s3] section / S3_* values); None: data/images
    blobs: BlobConfig | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        """The raw secret strings, so error texts can be scrubbed of them."""
        servers = (*self.image_servers, *filter(None, [self.custom_image_server]))
        keys = [s.reveal() for s in (self.openai_api_key, self.kakao_rest_api_key) if s]
        keys += [s.api_key.reveal() for s in servers if s.api_key]
        keys += self.blobs.secrets() if self.blobs else []
        return keys + url_passwords(self.database_url)

    @property
    def masked_database_url(self) -> str:
        """The database URL as it may be shown or logged: its password replaced by ***."""
        return mask_url_passwords(self.database_url)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def key_too_short(value: object) -> bool:
    """A typed key shorter than any real key: refused, since scrubbing so short a string from
    texts would garble them (the key "v" in "service")."""
    text = _clean(value)
    return text is not None and len(text) < MIN_SECRET_CHARS


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def _number(value: str | None, default: float, *, minimum: float = 0) -> float:
    """A non-negative number from configuration; a value that is not one keeps the default."""
    try:
        number = float(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= minimum and number == number and number != float("inf") else default


def _lower_list(value: str | None) -> frozenset[str]:
    """A comma-separated list, lower-cased (emails, domains written with or without "@", hosts)."""
    return frozenset(p.strip().lower().lstrip("@") for p in (value or "").split(",") if p.strip())


class _Layers:
    """The configuration layers, most specific first; remembers which layer gave each value."""

    def __init__(self, layers: list[tuple[str, Mapping[str, object]]]) -> None:
        self.layers = layers
        self.sources: dict[str, str] = {}

    def pick(self, name: str, *, from_layer: int = 0) -> str | None:
        for label, layer in self.layers[from_layer:]:
            value = _clean(layer.get(name))
            if value is not None:
                self.sources[name] = label
                return value
        return None

    def deployer_value(self, name: str) -> object:
        """A structured value only the deployer sets (a TOML list of tables, or JSON text)."""
        for label, layer in self.layers[1:]:
            value = layer.get(name)
            if value is not None and (not isinstance(value, str) or value.strip()):
                self.sources[name] = label
                return value
        return None

    def deployer(self, name: str) -> str | None:
        """A value only the deployer sets (secrets or environment), never the sidebar."""
        return self.pick(name, from_layer=1)


def _limits(layers: _Layers) -> Limits:
    number = layers.deployer
    return Limits(
        daily_budget_usd=_number(number("DAILY_BUDGET_USD"), Limits.daily_budget_usd),
        max_lanes=int(_number(number("MAX_LANES"), Limits.max_lanes, minimum=1)),
        max_images_per_lane=int(
            _number(number("MAX_IMAGES_PER_LANE"), Limits.max_images_per_lane, minimum=1)
        ),
        karlo_monthly_images=int(
            _number(number("KARLO_MONTHLY_IMAGES"), Limits.karlo_monthly_images)
        ),
    )


def _access(layers: _Layers) -> Access:
    return Access(
        allowed_emails=_lower_list(layers.deployer("ALLOWED_EMAILS")),
        allowed_domains=_lower_list(layers.deployer("ALLOWED_DOMAINS")),
        admin_emails=_lower_list(layers.deployer("ADMIN_EMAILS")),
    )


def resolve_settings(
    *,
    sidebar: Mapping[str, object] | None = None,
    secrets: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    mode: Mode = Mode.LOCAL,
) -> Settings:
    """Merge the three sources; the first that has a value wins: sidebar, secrets, environment.
    The OpenAI key and base URL are a pair from one layer (see :func:`_openai_base_url`);
    limits, access lists and the database are the deployer's alone.

    The sidebar values live only in this browser session; secrets and environment are shared by
    every session of the server.
    """
    sidebar = {
        k: v for k, v in (sidebar or {}).items() if k not in KEY_NAMES or not key_too_short(v)
    }
    layers = _Layers(
        [
            ("sidebar", sidebar),
            ("secrets", _flat_s3_section(secrets or {})),
            ("environment", environ or {}),
        ]
    )
    openai_key = layers.pick("OPENAI_API_KEY")
    kakao_key = layers.pick("KAKAO_REST_API_KEY")
    allow_custom_base_url = mode is not Mode.SHARED or _flag(
        layers.deployer("ALLOW_CUSTOM_BASE_URL"), False
    )
    ignored: dict[str, str] = {}
    servers, problem = _image_servers(layers)
    base_url = _openai_base_url(
        layers.layers, layers.sources, ignored, allow_sidebar=allow_custom_base_url
    )
    return Settings(
        openai_api_key=Secret(openai_key) if openai_key else None,
        openai_base_url=base_url,
        kakao_rest_api_key=Secret(kakao_key) if kakao_key else None,
        karlo_base_url=layers.deployer("KARLO_BASE_URL") or DEFAULT_KARLO_BASE_URL,
        database_url=layers.deployer("DATABASE_URL") or DEFAULT_DATABASE_URL,
        mode=mode,
        allow_custom_base_url=allow_custom_base_url,
        limits=_limits(layers),
        access=_access(layers),
        image_download_hosts=tuple(sorted(_lower_list(layers.deployer("IMAGE_DOWNLOAD_HOSTS")))),
        local_image_models=tuple(
            p.strip() for p in (layers.deployer("LOCAL_IMAGE_MODELS") or "").split(",") if p.strip()
        ),
        sources=layers.sources,
        ignored=ignored,
        image_servers=servers,
        image_servers_problem=problem,
        custom_image_server=_custom_image_server(sidebar) if allow_custom_base_url else None,
        moderation_check=_flag(layers.deployer("MODERATION_CHECK"), mode is Mode.SHARED),
        grid_concurrency=int(_number(layers.deployer("GRID_CONCURRENCY"), 2, minimum=1)),
        grid_confirm_usd=_number(layers.deployer("GRID_CONFIRM_USD"), 0.50),
        blobs=_blobs(layers),
    )


# the [s3] secrets section's keys, and the environment names they stand for
S3_SECTION = {
    "endpoint_url": "S3_ENDPOINT_URL",
    "bucket": "S3_BUCKET",
    "region": "S3_REGION",
    "access_key_id": "S3_ACCESS_KEY_ID",
    "secret_access_key": "S3_SECRET_ACCESS_KEY",
    "prefix": "S3_PREFIX",
}


def _flat_s3_section(secrets: Mapping[str, object]) -> Mapping[str, object]:
    """The secrets with an ``[s3]`` section read as the ``S3_*`` values it stands for."""
    section = secrets.get("s3")
    if not isinstance(section, Mapping):
        return secrets
    return {**secrets, **{S3_SECTION[k]: v for k, v in section.items() if k in S3_SECTION}}


def _blobs(layers: _Layers) -> BlobConfig | None:
    """The deployer's blob store: S3 when a bucket is named (an ``[s3]`` section in the
    secrets, or ``S3_*`` values), else the folder ``BLOB_DIR``; None: the data directory."""
    from services.storage.blobs import BlobConfig, S3Config

    value = layers.deployer
    bucket, folder = value("S3_BUCKET"), value("BLOB_DIR")
    if bucket is None:
        return BlobConfig(folder=folder) if folder else None
    key_id, secret = value("S3_ACCESS_KEY_ID"), value("S3_SECRET_ACCESS_KEY")
    return BlobConfig(
        s3=S3Config(
            bucket=bucket,
            endpoint_url=value("S3_ENDPOINT_URL"),
            region=value("S3_REGION"),
            access_key_id=Secret(key_id) if key_id else None,
            secret_access_key=Secret(secret) if secret else None,
            prefix=value("S3_PREFIX") or "",
        )
    )


def _image_servers(layers: _Layers) -> tuple[tuple[ImageServer, ...], str | None]:
    """The deployer's image servers, or none and the reason the value cannot be used (a
    broken IMAGE_SERVERS must not stop the app: the Compare page says what is wrong)."""
    from services.images.servers import parse_image_servers  # imports Secret from here

    try:
        return parse_image_servers(layers.deployer_value("IMAGE_SERVERS")), None
    except ChatCanvasError as err:
        return (), err.detail


def _custom_image_server(sidebar: Mapping[str, object]) -> ImageServer | None:
    from services.images.servers import custom_server

    key = sidebar.get("IMAGE_SERVER_KEY")
    return custom_server(
        sidebar.get("IMAGE_SERVER_URL"),
        None if key_too_short(key) else key,
        sidebar.get("IMAGE_SERVER_MODEL"),
    )


def _openai_base_url(
    layers: list[tuple[str, Mapping[str, object]]],
    sources: dict[str, str],
    ignored: dict[str, str],
    *,
    allow_sidebar: bool,
) -> str | None:
    """The base URL from the layer that supplied the key, else None (api.openai.com).

    The key is sent wherever the URL points, and the two only make sense together: a layer
    with a URL but no key does not lend it to another layer's key (a visitor's sidebar URL
    never receives the server's key; a URL in secrets is not silently dropped for a key from
    the environment: it is listed in ``ignored``). A sidebar URL also needs the deployer's
    permission on a shared deployment."""
    key_layer = sources.get("OPENAI_API_KEY")
    chosen = None
    for label, layer in layers:
        url = _clean(layer.get("OPENAI_BASE_URL"))
        if url is None:
            continue
        if label == key_layer and (label != "sidebar" or allow_sidebar):
            chosen = url
            sources["OPENAI_BASE_URL"] = label
        else:
            ignored.setdefault("OPENAI_BASE_URL", label)
    return chosen
