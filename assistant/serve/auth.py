"""The bearer token that guards /api, /v1 and /mcp when Settings.api_token is set: one check and
one refusal for all three."""

from __future__ import annotations

import secrets

REFUSED = "missing or wrong token: send 'Authorization: Bearer <ASSISTANT_API_TOKEN>'"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def authorised(token: str | None, header: str | bytes) -> bool:
    """Whether an Authorization header carries `token` (anything does when there is none)."""
    if not token:
        return True
    given = header.encode() if isinstance(header, str) else header
    return secrets.compare_digest(given, f"Bearer {token}".encode())
