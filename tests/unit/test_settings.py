"""Settings: where each value comes from, and a Secret that never shows itself."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from services.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_KARLO_BASE_URL,
    LOCAL_OWNER,
    Secret,
    Settings,
    resolve_settings,
)

KEY = "sk-proj-SETTINGS-abcdefghijklmnopqrstuvwxyz0123"
KAKAO = "0123456789abcdef0123456789abcdef"


# -- precedence ----------------------------------------------------------------------------
def test_sidebar_beats_secrets_beats_environment():
    s = resolve_settings(
        sidebar={"OPENAI_API_KEY": "sk-sidebar-0000000000"},
        secrets={"OPENAI_API_KEY": "sk-secrets-0000000000", "OPENAI_BASE_URL": "http://secrets/v1"},
        environ={
            "OPENAI_API_KEY": "sk-environ-0000000000",
            "OPENAI_BASE_URL": "http://environ/v1",
            "DATABASE_URL": "sqlite:///env.db",
        },
    )
    assert s.openai_api_key.reveal() == "sk-sidebar-0000000000"
    assert s.openai_base_url is None  # the secrets' URL goes with the secrets' key, not this one
    assert s.database_url == "sqlite:///env.db"
    assert s.sources == {"OPENAI_API_KEY": "sidebar", "DATABASE_URL": "environment"}
    assert s.ignored == {"OPENAI_BASE_URL": "secrets"}


def test_secrets_beat_environment():
    s = resolve_settings(
        secrets={"KAKAO_REST_API_KEY": "from-secrets-1234567"},
        environ={"KAKAO_REST_API_KEY": "from-env-123456789"},
    )
    assert s.kakao_rest_api_key.reveal() == "from-secrets-1234567"
    assert s.sources["KAKAO_REST_API_KEY"] == "secrets"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_blank_values_are_ignored_and_the_next_source_is_used(blank):
    s = resolve_settings(
        sidebar={"OPENAI_API_KEY": blank, "OPENAI_BASE_URL": blank},
        secrets={"OPENAI_API_KEY": blank},
        environ={"OPENAI_API_KEY": KEY},
    )
    assert s.openai_api_key.reveal() == KEY
    assert s.openai_base_url is None
    assert s.sources == {"OPENAI_API_KEY": "environment"}


def test_values_are_stripped():
    s = resolve_settings(
        sidebar={"OPENAI_API_KEY": f"  {KEY}\n", "OPENAI_BASE_URL": " http://x/v1 "}
    )
    assert s.openai_api_key.reveal() == KEY
    assert s.openai_base_url == "http://x/v1"


def test_nothing_set_gives_defaults_and_no_sources():
    s = resolve_settings()
    assert s.openai_api_key is None
    assert s.kakao_rest_api_key is None
    assert s.openai_base_url is None
    assert s.karlo_base_url == DEFAULT_KARLO_BASE_URL
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.owner_id == LOCAL_OWNER
    assert s.sources == {}
    assert s.secrets() == []


def test_keys_are_wrapped_in_secret():
    s = resolve_settings(environ={"OPENAI_API_KEY": KEY, "KAKAO_REST_API_KEY": KAKAO})
    assert isinstance(s.openai_api_key, Secret)
    assert isinstance(s.kakao_rest_api_key, Secret)


def test_settings_secrets_lists_the_raw_values():
    s = resolve_settings(environ={"OPENAI_API_KEY": KEY, "KAKAO_REST_API_KEY": KAKAO})
    assert s.secrets() == [KEY, KAKAO]
    only_kakao = Settings(kakao_rest_api_key=Secret(KAKAO))
    assert only_kakao.secrets() == [KAKAO]


def test_settings_repr_does_not_show_the_keys():
    s = resolve_settings(environ={"OPENAI_API_KEY": KEY, "KAKAO_REST_API_KEY": KAKAO})
    for text in (repr(s), str(s), f"{s}", "%s" % (s,)):  # noqa: UP031 - the point of the test
        assert KEY not in text
        assert KAKAO not in text


# -- Secret --------------------------------------------------------------------------------
def renderings(secret: Secret) -> list[str]:
    return [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret!s}",
        f"{secret:>80}",
        format(secret),
        format(secret, "s"),
        # the old spellings are the point here
        "{}".format(secret),  # noqa: UP032
        "{0!r}".format(secret),  # noqa: UP030, UP032
        "%s" % secret,  # noqa: UP031
        "%r" % (secret,),  # noqa: UP031
        str([secret]),
        str({"key": secret}),
    ]


def test_secret_never_renders_its_value():
    secret = Secret(KEY)
    for text in renderings(secret):
        assert KEY not in text
        assert "SETTINGS" not in text


def test_secret_does_not_appear_in_logs(caplog):
    secret = Secret(KEY)
    logger = logging.getLogger("chatcanvas.test")
    with caplog.at_level(logging.DEBUG, logger="chatcanvas.test"):
        logger.info("key is %s", secret)
        logger.info("key is %r", secret)
        logger.info("settings: %s", Settings(openai_api_key=secret))
        logger.info(secret)
    assert len(caplog.records) == 4
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()


def test_reveal_gives_the_value():
    assert Secret(KEY).reveal() == KEY


def test_masked_shows_only_a_hint():
    assert Secret(KEY).masked() == "sk-…0123"
    short = Secret("abcdefghijkl")  # 12 characters: too short to show any of it
    assert short.masked() == "•" * 8
    assert "abc" not in short.masked()


def test_secret_equality_and_truthiness():
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KAKAO)
    assert Secret(KEY) != KEY  # never equal to the bare string
    assert len({Secret(KEY), Secret(KEY)}) == 1
    assert Secret(KEY)
    assert not Secret("")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_secret_refuses_pickling(protocol):
    with pytest.raises(TypeError):
        pickle.dumps(Secret(KEY), protocol=protocol)
    with pytest.raises(TypeError):
        pickle.dumps(Settings(openai_api_key=Secret(KEY)), protocol=protocol)


def test_secret_refuses_copying_through_reduce():
    with pytest.raises(TypeError):
        copy.deepcopy(Secret(KEY))


def test_secret_has_no_instance_dict():
    secret = Secret(KEY)
    assert not hasattr(secret, "__dict__")
    with pytest.raises(AttributeError):
        secret.other = 1


def test_a_sidebar_base_url_never_receives_the_servers_key():
    """The key is sent to the base URL: a URL typed in the sidebar is used only with a key
    typed in the sidebar, never with the key from secrets or the environment."""
    s = resolve_settings(
        sidebar={"OPENAI_BASE_URL": "http://attacker.invalid/v1"},
        environ={"OPENAI_API_KEY": KEY},
    )
    assert s.openai_base_url is None
    assert s.ignored == {"OPENAI_BASE_URL": "sidebar"}
    own = resolve_settings(
        sidebar={
            "OPENAI_API_KEY": "sk-visitor-own-key-000000",
            "OPENAI_BASE_URL": "http://localhost:11434/v1",
        },
        environ={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://proxy.example/v1"},
    )
    assert own.openai_base_url == "http://localhost:11434/v1"
    assert own.sources["OPENAI_BASE_URL"] == "sidebar"


@pytest.mark.parametrize(
    ("secrets", "environ", "url", "source", "ignored"),
    [
        # the reported bug: the key from the environment made the secrets' URL vanish silently
        ({"OPENAI_BASE_URL": "https://s.example/v1"}, {"OPENAI_API_KEY": KEY}, None, None, "secrets"),
        # a key from secrets does not borrow the environment's URL either
        ({"OPENAI_API_KEY": KEY}, {"OPENAI_BASE_URL": "https://e.example/v1"}, None, None, "environment"),
        # both in the environment (os.environ or .env): one layer, a pair
        ({}, {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://e.example/v1"}, "https://e.example/v1", "environment", None),
        # both in secrets, another URL in the environment: the secrets' pair
        (
            {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://s.example/v1"},
            {"OPENAI_BASE_URL": "https://e.example/v1"},
            "https://s.example/v1",
            "secrets",
            "environment",
        ),
    ],
)  # fmt: skip
def test_key_and_base_url_come_as_a_pair_from_one_layer(secrets, environ, url, source, ignored):
    s = resolve_settings(secrets=secrets, environ=environ)
    assert s.openai_base_url == url
    assert s.sources.get("OPENAI_BASE_URL") == source
    assert s.ignored.get("OPENAI_BASE_URL") == ignored


def test_a_visitors_own_key_without_a_url_goes_to_openai_not_the_servers_endpoint():
    s = resolve_settings(
        sidebar={"OPENAI_API_KEY": "sk-visitor-own-key-000000"},
        environ={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://proxy.example/v1"},
    )
    assert s.openai_base_url is None
    assert s.ignored == {"OPENAI_BASE_URL": "environment"}


def test_shared_mode_ignores_a_sidebar_url_unless_the_deployer_allows_it():
    from services.settings import Mode

    sidebar = {
        "OPENAI_API_KEY": "sk-visitor-own-key-000000",
        "OPENAI_BASE_URL": "https://v.example/v1",
    }
    closed = resolve_settings(sidebar=sidebar, mode=Mode.SHARED)
    assert closed.openai_base_url is None
    assert closed.ignored == {"OPENAI_BASE_URL": "sidebar"}
    opened = resolve_settings(
        sidebar=sidebar, secrets={"ALLOW_CUSTOM_BASE_URL": "true"}, mode=Mode.SHARED
    )
    assert opened.openai_base_url == "https://v.example/v1"
    assert opened.sources["OPENAI_BASE_URL"] == "sidebar"


def test_shared_mode_reads_limits_and_access_from_the_deployer_only():
    from services.settings import Mode

    settings = resolve_settings(
        sidebar={"DAILY_BUDGET_USD": "999", "ALLOW_CUSTOM_BASE_URL": "true"},
        secrets={"DAILY_BUDGET_USD": "0.5", "MAX_LANES": "3", "ADMIN_EMAILS": "A@x.org, b@y.org"},
        environ={"ALLOWED_DOMAINS": "@team.example", "MAX_IMAGES_PER_LANE": "-1"},
        mode=Mode.SHARED,
    )
    assert settings.mode is Mode.SHARED
    assert settings.limits.daily_budget_usd == 0.5
    assert settings.limits.max_lanes == 3
    assert settings.limits.max_images_per_lane == 2  # a negative value keeps the default
    assert settings.access.admin_emails == {"a@x.org", "b@y.org"}
    assert settings.access.allowed_domains == {"team.example"}
    assert settings.allow_custom_base_url is False


def test_local_mode_allows_a_custom_base_url():
    assert resolve_settings().allow_custom_base_url is True
    assert resolve_settings().mode == "local"
