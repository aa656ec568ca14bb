"""Dashboard bearer tokens: JWTs of the gateway's application, verified with PyJWT."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.auth.jwt import build_verifier
from service.settings import SettingsError, load_settings

SECRET = "s3cret-of-the-gateway-application-0123456789"
ISS, AUD = "https://dashboard.example.com", "qrstudio"
JWT_SETTINGS = {"jwt_secret": SECRET, "jwt_issuer": ISS, "jwt_audience": AUD}
UNAUTHORIZED = {"detail": "Missing or invalid X-Api-Key."}


def token(who: str | None, *, key: object = SECRET, alg: str = "HS256", **claims: object) -> str:
    body = {"account": who, "iss": ISS, "aud": AUD, "exp": int(time.time()) + 300, **claims}
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None},
        key,  # type: ignore[arg-type]
        algorithm=alg,
    )


def bearer(
    server, tok: str, method: str, path: str, *, extra: dict[str, str] | None = None, **kw: object
) -> httpx.Response:
    return httpx.request(
        method,
        server.url + path,
        timeout=30,
        headers={"Authorization": f"Bearer {tok}", **(extra or {})},
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture
def jwt_server(backend: str, make_server):  # type: ignore[no-untyped-def]
    return make_server(backend, **JWT_SETTINGS)


def test_a_valid_token_reaches_the_dashboard_routes(jwt_server) -> None:
    account, key = jwt_server.account("pro")
    tok = token(account)
    assert bearer(jwt_server, tok, "GET", "/api/v1/keys/").status_code == 200
    made = bearer(jwt_server, tok, "POST", "/api/v1/keys/", json={"name": "from the dashboard"})
    assert made.status_code == 201 and made.json()["plan"] == "pro"
    hooks = bearer(jwt_server, tok, "GET", "/api/v1/webhooks/")
    assert hooks.status_code == 200 and hooks.json() == {"webhooks": []}
    me = bearer(jwt_server, tok, "GET", "/api/v1/usage/me/")
    assert me.status_code == 200 and me.json()["plan"] == "pro"
    code = bearer(
        jwt_server,
        tok,
        "POST",
        "/api/v1/dynamic/",
        json={"name": "jwt", "destination_url": "https://example.com/j"},
        extra={"Idempotency-Key": "jwt-1"},
    )
    assert code.status_code == 201, code.text
    assert bearer(jwt_server, tok, "GET", "/api/v1/dynamic/").json()["count"] == 1
    # the raw API key as a bearer still works where it did
    assert bearer(jwt_server, key, "GET", "/api/v1/dynamic/").status_code == 200
    # render routes take X-Api-Key only, as the product's
    r = bearer(jwt_server, tok, "POST", "/api/v1/generate/", json={"data": "x", "size_inches": 1})
    assert r.status_code == 401


def test_forged_expired_and_misdirected_tokens_are_401(jwt_server) -> None:
    account, _ = jwt_server.account("pro")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "wrong secret": token(account, key="another-secret-of-at-least-32-bytes!!"),
        "expired": token(account, exp=int(time.time()) - 3600),
        "no exp": token(account, exp=None),
        "wrong issuer": token(account, iss="https://evil.example.com"),
        "wrong audience": token(account, aud="someone-else"),
        "unknown account": token("no-such-account"),
        "no account claim": token(None),
        "bad account id": token("../../etc"),
        "alg none": jwt.encode(
            {"account": account, "iss": ISS, "aud": AUD, "exp": int(time.time()) + 300},
            None,
            algorithm="none",
        ),
        "other alg": token(account, key=rsa_key, alg="RS256"),
        "garbage": "not.a.jwt",
        "tampered": token(account)[:-6] + "AAAAAA",
    }
    for why, tok in bad.items():
        for method, path in [
            ("GET", "/api/v1/keys/"),
            ("GET", "/api/v1/dynamic/"),
            ("GET", "/api/v1/usage/me/"),
            ("GET", "/api/v1/webhooks/"),
        ]:
            r = bearer(jwt_server, tok, method, path)
            assert (r.status_code, r.json()) == (401, UNAUTHORIZED), (why, path)


def test_without_the_setting_only_api_keys(server) -> None:
    account, key = server.account("pro")
    r = bearer(server, token(account), "GET", "/api/v1/keys/")
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    assert bearer(server, key, "GET", "/api/v1/keys/").status_code == 200


def _settings(tmp_path: Path, **kw: str):  # type: ignore[no-untyped-def]
    return load_settings({}, jwt_issuer=ISS, jwt_audience=AUD, **kw)


def test_rs256_public_key_file_and_es256_jwks(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "gateway.pem"
    pem.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    verifier = build_verifier(_settings(tmp_path, jwt_public_key_file=str(pem)))
    assert verifier is not None
    assert verifier.account(token("acme", key=rsa_key, alg="RS256")) == "acme"
    assert verifier.account(token("acme", key=SECRET)) is None  # HS256 with the key's bytes: no
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verifier.account(token("acme", key=other, alg="RS256")) is None

    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}))
    verifier = build_verifier(
        _settings(tmp_path, jwt_jwks_file=str(tmp_path / "jwks.json"), jwt_account_claim="org")
    )
    assert verifier is not None
    good = jwt.encode(
        {"org": "acme", "iss": ISS, "aud": AUD, "exp": int(time.time()) + 60},
        ec_key,
        algorithm="ES256",
        headers={"kid": "k1"},
    )
    assert verifier.account(good) == "acme"
    wrong_kid = jwt.encode(
        {"org": "acme", "iss": ISS, "aud": AUD, "exp": int(time.time()) + 60},
        ec_key,
        algorithm="ES256",
        headers={"kid": "k2"},
    )
    assert verifier.account(wrong_kid) is None


def test_inconsistent_settings_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="only one"):
        _settings(tmp_path, jwt_secret=SECRET, jwt_jwks_file="/x")
    with pytest.raises(SettingsError, match="ISSUER"):
        load_settings({}, jwt_secret=SECRET)
    with pytest.raises(SettingsError, match="32 bytes"):
        _settings(tmp_path, jwt_secret="short")
    with pytest.raises(SettingsError, match="cannot read"):
        _settings(tmp_path, jwt_public_key_file=str(tmp_path / "missing.pem"))
    assert load_settings({}).jwt_secret == ""
