"""A real OpenID Connect provider for the tests: a small HTTP server on a free loopback port.

It serves discovery, a JWKS, an authorization endpoint that "signs in" whoever the test says (by
default the ``login_hint``) and redirects back with a one-time code, and a token endpoint that
checks the client's credentials and the PKCE verifier and returns an ID token signed with a test
RSA key (joserfc). Knobs let a test make it misbehave: an error instead of a code, claims changed
or removed, a signature by a key it does not publish. Every request it received is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.smtpserver import free_port

CLIENT_ID = "portal-test-client"
CLIENT_SECRET = "idp-client-secret-1234567890"
REMOVE = object()


class FakeProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        # What the next sign-in looks like.
        self.email: str | None = None  # None: the login_hint the portal sent
        self.authorize_error: str | None = None
        self.claim_changes: dict = {}
        self.sign_with_rogue_key = False
        # What the provider saw.
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self._codes: dict[str, dict] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def _authorize(self, params: dict) -> tuple[int, dict, bytes]:
        self.authorize_requests.append(params)
        redirect_uri = params["redirect_uri"]
        if self.authorize_error:
            answer = {"error": self.authorize_error, "state": params.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            self._codes[code] = params | {"email": self.email or params.get("login_hint", "")}
            answer = {"code": code, "state": params.get("state", "")}
        return 302, {"Location": f"{redirect_uri}?{urlencode(answer)}"}, b""

    def _token(self, form: dict, authorization: str) -> tuple[int, dict, bytes]:
        self.token_requests.append(form | {"authorization": authorization})
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return self._json(401, {"error": "invalid_client"})
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return self._json(400, {"error": "invalid_grant"})
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        expected_challenge = challenge.rstrip(b"=").decode()
        if grant.get("code_challenge_method") != "S256" or expected_challenge != grant.get("code_challenge"):
            return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": "sub-" + grant["email"], "aud": self.client_id, "iat": now, "exp": now + 300,
            "nonce": grant.get("nonce"), "email": grant["email"], "email_verified": True,
        }
        for name, value in self.claim_changes.items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.rogue_key if self.sign_with_rogue_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, key)
        return self._json(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                                "id_token": id_token})

    @staticmethod
    def _json(status: int, body: dict) -> tuple[int, dict, bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, answer: tuple[int, dict, bytes]) -> None:
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's hook name)
                url = urlsplit(self.path)
                if url.path.endswith("/.well-known/openid-configuration"):  # under any path: about its own issuer
                    self._send(provider._json(200, provider.metadata()))
                elif url.path == "/jwks":
                    self._send(provider._json(200, {"keys": [provider.key.as_dict(private=False)]}))
                elif url.path == "/authorize":
                    self._send(provider._authorize(dict(parse_qsl(url.query))))
                else:
                    self._send(provider._json(404, {"error": "not_found"}))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if urlsplit(self.path).path == "/token":
                    self._send(provider._token(form, self.headers.get("Authorization", "")))
                else:
                    self._send(provider._json(404, {"error": "not_found"}))

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler
