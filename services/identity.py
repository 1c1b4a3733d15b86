"""Who the signed-in person is, as the stores know them.

The owner id is derived from the OpenID Connect issuer and subject, which the provider keeps
stable for a person; an email can change and two providers can share one.
"""

from __future__ import annotations

import hashlib

from services.settings import LOCAL_OWNER


def owner_id_for(issuer: str, subject: str) -> str:
    """A stable, opaque owner id for (issuer, subject); never derived from the email."""
    if not issuer or not subject:
        raise ValueError("an owner id needs both the issuer and the subject")
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return f"u_{digest[:32]}"


__all__ = ["LOCAL_OWNER", "owner_id_for"]
