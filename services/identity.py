"""Who the signed-in person is, as the stores know them, and whether they may come in.

The owner id is derived from the OpenID Connect issuer and subject, which the provider keeps
stable for a person; an email can change and two providers can share one.

The email is used only for the deployer's allow-lists and admin list, and only when the
provider vouches for it: an ``email_verified`` claim that is false (a provider that lets
people type any address) makes the email worthless for access decisions. Providers that do
not send the claim at all (some enterprise IdPs only issue verified addresses) are trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from services.settings import LOCAL_OWNER, Access


def owner_id_for(issuer: str, subject: str) -> str:
    """A stable, opaque owner id for (issuer, subject); never derived from the email."""
    if not issuer or not subject:
        raise ValueError("an owner id needs both the issuer and the subject")
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return f"u_{digest[:32]}"


@dataclass(frozen=True)
class SignedInUser:
    """The claims of a signed-in person's ID token that the app uses."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool | None = None  # None: the provider did not say
    name: str | None = None

    @property
    def owner_id(self) -> str:
        return owner_id_for(self.issuer, self.subject)

    @property
    def trusted_email(self) -> str | None:
        """The lower-case email when the provider vouches for it (or does not say), else None."""
        if not self.email or self.email_verified is False:
            return None
        return self.email.strip().lower()

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.subject


def _verified(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def user_from_claims(claims: Mapping[str, object]) -> SignedInUser | None:
    """The signed-in user from ID-token claims (``st.user``), or None when the claims do not
    name an issuer and a subject (not signed in, or a provider that sent too little)."""
    issuer, subject = _text(claims.get("iss")), _text(claims.get("sub"))
    if not claims.get("is_logged_in", True) or issuer is None or subject is None:
        return None
    return SignedInUser(
        issuer=issuer,
        subject=subject,
        email=_text(claims.get("email")),
        email_verified=_verified(claims.get("email_verified")),
        name=_text(claims.get("name")),
    )


def is_admin(user: SignedInUser, access: Access) -> bool:
    """Whether the deployer listed this user's (trusted) email in ADMIN_EMAILS."""
    return user.trusted_email is not None and user.trusted_email in access.admin_emails


def may_use(user: SignedInUser, access: Access) -> bool:
    """Whether the deployment lets this user in: everyone when neither ALLOWED_EMAILS nor
    ALLOWED_DOMAINS is set; else a trusted email on a list (admins always)."""
    if not access.allowed_emails and not access.allowed_domains:
        return True
    email = user.trusted_email
    if email is None:
        return False
    domain = email.rpartition("@")[2]
    return (
        email in access.allowed_emails or domain in access.allowed_domains or is_admin(user, access)
    )


__all__ = ["LOCAL_OWNER", "SignedInUser", "is_admin", "may_use", "owner_id_for", "user_from_claims"]
