#!/usr/bin/python3
"""Writes the seed corpus of fuzz/jwt_fuzz.cpp into fuzz/corpus/jwt/ (run from the repository root).

Tokens are signed with RFC 7515 A.3's key (kid "k"), the fuzz target's fixed key, using python's
`cryptography`; ECDSA is randomized, so re-running changes the signature bytes, not what they test."""
import base64, json, os
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def unb64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

X, Y, D = ("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
           "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")
key = ec.derive_private_key(int.from_bytes(unb64u(D), "big"), ec.SECP256R1())
claims = {"iss": "https://localhost:8443", "aud": "ims.example.org", "sub": "alice@ims.example.org",
          "impu": ["sip:alice@ims.example.org"], "wwsf": "wwsf.example.org",
          "scope": "webrtc-ims-client-access-to-ims", "pool": False, "exp": 1900003600, "iat": 1899999990, "jti": "j1"}

def es256(header, payload):
    si = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + b64u(json.dumps(payload, separators=(",", ":")).encode())
    r, s = decode_dss_signature(key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
    return si + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

hdr = {"alg": "ES256", "typ": "at+jwt", "kid": "k"}
seeds = {
    "token-valid": b"\x00" + es256(hdr, claims).encode(),
    "token-pool-aud-array": b"\x00" + es256(hdr, dict(claims, pool=True, aud=["x", "ims.example.org"])).encode(),
    "token-expired": b"\x00" + es256(hdr, dict(claims, exp=1000)).encode(),
    "token-alg-none": b"\x00" + (b64u(b'{"alg":"none","typ":"at+jwt","kid":"k"}') + "." + b64u(json.dumps(claims).encode()) + ".").encode(),
    "token-rfc7515-a3": b"\x00eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    "claims-valid": b"\x01" + json.dumps(claims).encode(),
    "claims-types": b"\x01" + json.dumps(dict(claims, exp="1900003600", impu="sip:a@b", pool="true")).encode(),
    "claims-scope-list": b"\x01" + json.dumps(dict(claims, scope="openid webrtc-ims-client-access-to-ims")).encode(),
    "jwks": b"\x02" + json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "k", "alg": "ES256"},
                                            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}]}).encode(),
}
si = b64u(b'{"alg":"HS256","typ":"at+jwt","kid":"k"}') + "." + b64u(json.dumps(claims).encode())
pub = json.dumps({"kty": "EC", "crv": "P-256", "x": X, "y": Y}).encode()
h = hmac.HMAC(pub, hashes.SHA256()); h.update(si.encode())
seeds["token-hs256-confusion"] = b"\x00" + (si + "." + b64u(h.finalize())).encode()
os.makedirs("fuzz/corpus/jwt", exist_ok=True)
for name, data in seeds.items():
    open(os.path.join("fuzz/corpus/jwt", name), "wb").write(data)
