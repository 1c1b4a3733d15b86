"""Who a signed-in person is, and whether the deployer's lists let them in."""

from __future__ import annotations

from services.identity import is_admin, may_use, owner_id_for, user_from_claims
from services.settings import Access

ISSUER = "https://accounts.example.com"


def claims(**extra: object) -> dict[str, object]:
    return {"is_logged_in": True, "iss": ISSUER, "sub": "1234", **extra}


def test_owner_id_comes_from_issuer_and_subject_never_the_email():
    a = user_from_claims(claims(email="a@example.com"))
    b = user_from_claims(claims(email="new-address@example.com"))
    assert a is not None and b is not None
    assert a.owner_id == b.owner_id == owner_id_for(ISSUER, "1234")
    other_issuer = user_from_claims({**claims(), "iss": "https://other.example"})
    assert other_issuer is not None and other_issuer.owner_id != a.owner_id


def test_no_user_without_issuer_subject_or_sign_in():
    assert user_from_claims({}) is None
    assert user_from_claims({"email": "test@example.com"}) is None
    assert user_from_claims({**claims(), "is_logged_in": False}) is None
    assert user_from_claims({**claims(), "sub": "  "}) is None


def test_display_name_falls_back_to_email_then_subject():
    assert user_from_claims(claims(name="Ada", email="a@x.org")).display_name == "Ada"
    assert user_from_claims(claims(email="a@x.org")).display_name == "a@x.org"
    assert user_from_claims(claims()).display_name == "1234"


def test_everyone_may_use_an_open_deployment():
    assert may_use(user_from_claims(claims()), Access())


def test_allow_lists_match_trusted_emails_case_insensitively():
    access = Access(allowed_emails=frozenset({"ada@gmail.com"}), allowed_domains={"team.org"})
    assert may_use(user_from_claims(claims(email="Ada@Gmail.com", email_verified=True)), access)
    assert may_use(user_from_claims(claims(email="bo@team.org")), access)  # claim absent
    assert not may_use(user_from_claims(claims(email="eve@evil.org")), access)
    assert not may_use(user_from_claims(claims(email="bo@team.org.evil.org")), access)
    assert not may_use(user_from_claims(claims()), access)  # no email at all


def test_an_email_the_provider_says_is_unverified_opens_nothing():
    access = Access(allowed_domains=frozenset({"team.org"}), admin_emails={"boss@team.org"})
    for flag in (False, "false"):
        user = user_from_claims(claims(email="boss@team.org", email_verified=flag))
        assert user.trusted_email is None
        assert not may_use(user, access)
        assert not is_admin(user, access)
    verified = user_from_claims(claims(email="boss@team.org", email_verified="true"))
    assert may_use(verified, access) and is_admin(verified, access)


def test_admins_may_use_a_restricted_deployment():
    access = Access(allowed_domains=frozenset({"team.org"}), admin_emails={"owner@gmail.com"})
    owner = user_from_claims(claims(email="owner@gmail.com", email_verified=True))
    assert is_admin(owner, access) and may_use(owner, access)
    assert not is_admin(user_from_claims(claims(email="bo@team.org")), access)
