"""OpenAI-compatible image servers: the deployer's list (``IMAGE_SERVERS``) and a person's
one-off server typed in the lane form.

``IMAGE_SERVERS`` is a list of servers, each with ``name``, ``base_url``, ``api_key``,
``models``, an optional ``profile`` (see :mod:`services.images.profile`) for all its models and
optional ``profiles`` (model id -> profile) where one model differs: a TOML array of
tables in the Streamlit secrets, or the same as JSON in the environment / ``.env``. Visitors
pick a server by name; its key stays a :class:`~services.settings.Secret` that only the HTTP
header sees. A lane names its model as ``SERVER/MODEL`` (``fake-sd/sd-turbo``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.errors import ChatCanvasError, ErrorKind
from services.images.profile import CapabilityProfile, ProfileError, profile_from_mapping
from services.settings import Secret
from services.url_policy import check_configured_url

# the server a person typed in the lane form (local mode, or with ALLOW_CUSTOM_BASE_URL)
CUSTOM_SERVER = "custom"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_SERVER_KEYS = frozenset({"name", "base_url", "api_key", "models", "profile", "profiles"})


@dataclass(frozen=True)
class ImageServer:
    """One server: where it is, its key (never shown), the models it serves, what they take.
    ``configured``: the deployer's (trusted address); False for a person's own typed one."""

    name: str
    base_url: str
    api_key: Secret | None = field(default=None, repr=False)
    models: tuple[str, ...] = ()
    profile: CapabilityProfile = field(default_factory=CapabilityProfile)
    model_profiles: Mapping[str, CapabilityProfile] = field(default_factory=dict)
    configured: bool = True

    def profile_for(self, model: str) -> CapabilityProfile:
        """What ``model`` on this server takes."""
        return self.model_profiles.get(model, self.profile)

    def model_ref(self, model: str) -> str:
        """How a lane names ``model`` on this server."""
        return f"{self.name}/{model}"


def split_model_ref(ref: str) -> tuple[str, str]:
    """``"server/model"`` -> (server, model); model ids may hold more slashes."""
    server, _, model = ref.partition("/")
    return server, model


def _bad(detail: str) -> ChatCanvasError:
    return ChatCanvasError(ErrorKind.BAD_CONFIG, f"IMAGE_SERVERS: {detail}")


def _loaded(raw: object) -> list[object]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as err:
            raise _bad(f"not valid JSON ({err.msg} at line {err.lineno})") from None
    if isinstance(raw, Mapping):
        raw = [raw]  # one server written as a single table
    if not isinstance(raw, (list, tuple)):
        raise _bad("must be a list of servers")
    return list(raw)


def _server(entry: object, number: int, seen: set[str]) -> ImageServer:
    where = f"server {number}"
    if not isinstance(entry, Mapping):
        raise _bad(f"{where} must be a table with name, base_url, api_key and models")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise _bad(f"{where}: 'name' must be 1-40 letters, digits, '.', '_' or '-'")
    name = name.strip()
    where = f"server {name!r}"
    if name == CUSTOM_SERVER or name in seen:
        raise _bad(f"{where}: the name is {'reserved' if name == CUSTOM_SERVER else 'repeated'}")
    unknown = sorted(set(entry) - _SERVER_KEYS)
    if unknown:
        raise _bad(f"{where}: unknown key {unknown[0]!r}")
    base_url = entry.get("base_url")
    if not isinstance(base_url, str) or not base_url.strip():
        raise _bad(f"{where}: 'base_url' is missing")
    try:
        base_url = check_configured_url(base_url)
    except ChatCanvasError as err:
        raise _bad(f"{where}: 'base_url' {err.detail}") from None
    models = entry.get("models")
    if (
        not isinstance(models, (list, tuple))
        or not models
        or not all(isinstance(m, str) and m.strip() for m in models)
    ):
        raise _bad(f"{where}: 'models' must be a list of model ids")
    key = entry.get("api_key")
    if key is not None and not isinstance(key, str):
        raise _bad(f"{where}: 'api_key' must be text")
    profile, by_model = _profiles(entry, where)
    seen.add(name)
    return ImageServer(
        name=name,
        base_url=base_url,
        api_key=Secret(key.strip()) if key and key.strip() else None,
        models=tuple(m.strip() for m in models),
        profile=profile,
        model_profiles=by_model,
    )


def _profiles(
    entry: Mapping[str, object], where: str
) -> tuple[CapabilityProfile, dict[str, CapabilityProfile]]:
    """The server's profile and its models' own ones."""
    by_model = entry.get("profiles") or {}
    if not isinstance(by_model, Mapping):
        raise _bad(f"{where}: 'profiles' must be a table of model id -> profile")
    models = entry.get("models") or ()
    try:
        profile = profile_from_mapping(entry.get("profile"))
        own = {}
        for model, raw in by_model.items():
            if model not in models:
                raise ProfileError(f"{model!r} is not in 'models'")
            own[str(model)] = profile_from_mapping(raw)
    except ProfileError as err:
        raise _bad(f"{where}: profile: {err}") from None
    return profile, own


def parse_image_servers(raw: object) -> tuple[ImageServer, ...]:
    """The servers of an ``IMAGE_SERVERS`` value (JSON text, or the list of tables TOML gives).
    Raises ChatCanvasError(BAD_CONFIG) whose detail names the server and key at fault, and
    never the key's value."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ()
    seen: set[str] = set()
    return tuple(_server(entry, i, seen) for i, entry in enumerate(_loaded(raw), start=1))


def custom_server(base_url: object, api_key: object, model: object) -> ImageServer | None:
    """The one-off server a person typed (None until a base URL and a model are given). Its
    address is checked when it is called (:func:`services.url_policy.check_url`)."""
    url, key, model_id = (str(v or "").strip() for v in (base_url, api_key, model))
    if not url or not model_id:
        return None
    return ImageServer(
        name=CUSTOM_SERVER,
        base_url=url,
        api_key=Secret(key) if key else None,
        models=(model_id,),
        configured=False,
    )
