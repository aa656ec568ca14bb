"""Dashboard bearer tokens: JWTs that the gateway's own application signs (CONTRACT section 8).

The service never issues tokens; it only verifies them with PyJWT against the one key source the
operator configured (an HS256 secret, a PEM public key for RS256/ES256, or a JWKS file whose
keys are picked by ``kid``), and requires ``exp``, ``iss`` and ``aud``. The account is the value
of a configured claim. Every failure is the same ``None``: the caller answers one 401 for all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from ..limits.keys import ACCOUNT_RE

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["JwtVerifier", "build_verifier"]

_ASYMMETRIC = ["RS256", "ES256"]


class JwtVerifier:
    def __init__(
        self,
        *,
        key: Any = None,
        jwks: jwt.PyJWKSet | None = None,
        algorithms: list[str],
        issuer: str,
        audience: str,
        claim: str,
        leeway_s: float,
    ) -> None:
        self._key = key
        self._jwks = jwks
        self._algorithms = algorithms
        self._issuer = issuer
        self._audience = audience
        self._claim = claim
        self._leeway = leeway_s

    def _key_for(self, token: str) -> Any:
        if self._jwks is None:
            return self._key
        kid = jwt.get_unverified_header(token).get("kid")
        for candidate in self._jwks.keys:
            if kid is None or candidate.key_id == kid:
                return candidate
        raise jwt.InvalidKeyError("no key with this kid")

    def account(self, token: str) -> str | None:
        """The account a valid token names, or None (forged, expired, wrong issuer, ...)."""
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", self._claim]},
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            return None
        account = claims.get(self._claim)
        if not isinstance(account, str) or not ACCOUNT_RE.fullmatch(account):
            return None
        return account


def build_verifier(settings: Settings) -> JwtVerifier | None:
    """The verifier the settings describe, None when no key is configured; ValueError when the
    settings are inconsistent or the key cannot be read (the service refuses to start)."""
    sources = [
        name
        for name in ("jwt_secret", "jwt_public_key_file", "jwt_jwks_file")
        if getattr(settings, name)
    ]
    if not sources:
        return None
    if len(sources) > 1:
        raise ValueError(
            "set only one of QRSTUDIO_JWT_SECRET, QRSTUDIO_JWT_PUBLIC_KEY_FILE, "
            "QRSTUDIO_JWT_JWKS_FILE"
        )
    if not settings.jwt_issuer or not settings.jwt_audience:
        raise ValueError(
            "QRSTUDIO_JWT_ISSUER and QRSTUDIO_JWT_AUDIENCE are required with a JWT key"
        )
    common: dict[str, Any] = {
        "issuer": settings.jwt_issuer,
        "audience": settings.jwt_audience,
        "claim": settings.jwt_account_claim,
        "leeway_s": settings.jwt_leeway_s,
    }
    if settings.jwt_secret:
        if len(settings.jwt_secret.encode()) < 32:
            raise ValueError("QRSTUDIO_JWT_SECRET must be at least 32 bytes (RFC 7518 3.2)")
        return JwtVerifier(key=settings.jwt_secret, algorithms=["HS256"], **common)
    try:
        if settings.jwt_public_key_file:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            key = load_pem_public_key(Path(settings.jwt_public_key_file).read_bytes())
            return JwtVerifier(key=key, algorithms=_ASYMMETRIC, **common)
        jwks = jwt.PyJWKSet.from_dict(json.loads(Path(settings.jwt_jwks_file).read_text()))
    except (OSError, ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ValueError(f"cannot read the JWT key: {exc}") from None
    return JwtVerifier(jwks=jwks, algorithms=_ASYMMETRIC, **common)
