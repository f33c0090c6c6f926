#!/usr/bin/python3
"""Interop: RFC 7635 third-party authorization (TURN Solution 2) and Approach 2 credential push.

 - tokens made by coturn's `turnutils_oauth` with an AS-RS key are accepted by `webims turn`
   configured with the same key (`webims wic turn-cred --allocate --oauth-token ...`), and refused
   when sealed under another key or for another server name;
 - tokens from our codec (`webims wic oauth-token`, what the WAF mints) are accepted by coturn's
   `turnserver --oauth` with the key in its sqlite userdb (`oauth_key` table), and refused under a
   wrong key;
 - `webims wic` allocates with an OAuth grant against `webims turn`;
 - Approach 2: a credential pushed to the control API allows an allocation, not after its expiry;
   a revocation tears the live allocation down (aioice keeps it open) and a new Allocate with the
   same credential gets 401; the API refuses requests without the bearer token and bad bodies.
usage: turn_oauth_test.py WEBIMS_BINARY   (needs Debian coturn and python3-aioice)
"""
import asyncio
import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webims_harness import Coturn, Server, free_port, http_get, metric  # noqa: E402

import aioice.stun as stun  # noqa: E402
import aioice.turn as turn  # noqa: E402

BINARY = None
REALM = "oauth.example.org"
SERVER_NAME = "turn.oauth.example.org"
KEY = base64.b64encode(bytes(range(32))).decode()
CONTROL_TOKEN = "interop-control-token-0123456789"


def config(udp, control):
    return f"""
[log]
level = "info"
[store]
url = "sqlite://@DIR@/webims.db"
[turn]
listen = ["udp://127.0.0.1:{udp}"]
realm = "{REALM}"
relay_address = "127.0.0.1"
relay_ports = "44000-44199"
allowed_peer_ranges = ["127.0.0.0/8"]
user_quota = 0
control_listen = "http://127.0.0.1:{control}"
control_token = "{CONTROL_TOKEN}"
oauth_server_name = "{SERVER_NAME}"
[[turn.oauth_keys]]
kid = "retired"
key = "{base64.b64encode(bytes(16)).decode()}"
alg = "A128GCM"
[[turn.oauth_keys]]
kid = "north"
key = "{KEY}"
alg = "A256GCM"
"""


def coturn_token(server_name, key=KEY, lifetime=600, kid="north"):
    """(access_token, mac_key base64) from turnutils_oauth -e."""
    # turnutils_oauth reads the decoded -p key as a C string: a zero byte would end it (a leading one
    # makes it refuse the key, 1 run in 256), so the test's mac_keys have none.
    mac = base64.b64encode(bytes(b or 1 for b in os.urandom(20))).decode()
    now = int(time.time())
    out = subprocess.run(["turnutils_oauth", "-e", "-i", server_name, "-j", kid, "-k", key, "-l", str(now),
                          "-m", "100000", "-n", "A256GCM", "-p", mac, "-q", str(now << 16), "-r", str(lifetime)],
                         capture_output=True, timeout=20)
    # Its JSON prints the raw mac_key bytes as "key", so only access_token is read from it.
    text = out.stdout.decode("latin-1")
    m = re.search(r'"access_token":"([^"]+)"', text)
    assert m, text + out.stderr.decode("latin-1")
    return m.group(1), mac


def wic(*args, stdin=None):
    return subprocess.run([BINARY, "wic", *args], input=stdin, capture_output=True, text=True, timeout=60)


def kv(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def post(url, body, token=CONTROL_TOKEN):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if not isinstance(body, bytes) else body,
                                 method="POST", headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class OAuthAndPush(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.udp, cls.control = free_port(), free_port()
        cls.server = Server(BINARY, "turn", config(cls.udp, cls.control), name="turn-oauth")
        cls.server.start(f"http://127.0.0.1:{cls.control}/health")
        cls.uri = f"turn:127.0.0.1:{cls.udp}?transport=udp"
        cls.api = f"http://127.0.0.1:{cls.control}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def allocate(self, *args, stdin=None):
        return wic("turn-cred", "--allocate", self.uri, *args, stdin=stdin)

    # (a) coturn's tokens at webims turn
    def test_coturn_made_token_is_accepted(self):
        tok, mac = coturn_token(SERVER_NAME)
        r = self.allocate("--oauth-token", tok, "--oauth-kid", "north", "--oauth-mac-key", mac)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(kv(r.stdout)["relayed"].startswith("127.0.0.1:"))
        # The same token keyed the way coturn's own clients do (16 of the 20 mac_key bytes).
        r = self.allocate("--oauth-token", tok, "--oauth-kid", "north", "--oauth-mac-key", mac, "--oauth-coturn")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_coturn_made_token_under_another_key_or_name_is_refused(self):
        other = base64.b64encode(os.urandom(32)).decode()
        for tok, mac in (coturn_token(SERVER_NAME, key=other), coturn_token(REALM)):
            r = self.allocate("--oauth-token", tok, "--oauth-kid", "north", "--oauth-mac-key", mac)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(kv(r.stdout).get("turn_error"), "401")
        metrics = http_get(self.api + "/metrics")
        self.assertGreaterEqual(metric(metrics, "webims_turn_auth_failures_total", reason="bad_token"), 2)

    # (c) webims wic with a WAF-shaped grant at webims turn
    def test_wic_allocates_with_an_oauth_grant(self):
        g = wic("oauth-token", "--kid", "north", "--key", KEY, "--server-name", SERVER_NAME, "--lifetime", "300")
        self.assertEqual(g.returncode, 0, g.stderr)
        grant = json.loads(g.stdout)
        self.assertEqual(grant["token_type"], "pop")
        self.assertEqual(grant["expires_in"], 300)
        r = self.allocate("--oauth-grant", "-", stdin=g.stdout)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A grant whose mac_key was swapped is refused: the client must hold the token's key.
        grant["key"] = base64.b64encode(os.urandom(20)).decode()
        r = self.allocate("--oauth-grant", "-", stdin=json.dumps(grant))
        self.assertEqual(kv(r.stdout).get("turn_error"), "401")

    # (d) Approach 2
    def test_control_api_refuses_without_token_and_bad_bodies(self):
        exp = int(time.time()) + 60
        self.assertEqual(post(self.api + "/v1/credentials", {"username": "x", "password": "y", "expires": exp},
                              token=None)[0], 401)
        self.assertEqual(post(self.api + "/v1/credentials", {"username": "x", "password": "y", "expires": exp},
                              token="wrong-token-wrong-token")[0], 401)
        code, body = post(self.api + "/v1/credentials", b"{not json")
        self.assertEqual(code, 400)
        self.assertIn("JSON", body["error"])
        code, body = post(self.api + "/v1/credentials", {"username": "x", "password": "y"})
        self.assertEqual(code, 400)
        self.assertIn("expires", body["error"])
        code, body = post(self.api + "/v1/revocations", {"username": "x", "until": 5})
        self.assertEqual(code, 400)

    def test_pushed_credential_works_until_expiry(self):
        code, _ = post(self.api + "/v1/credentials", {"username": "wic-push-1", "password": "pushed-pw",
                                                     "expires": int(time.time()) + 4})
        self.assertEqual(code, 200)
        r = self.allocate("--turn-username", "wic-push-1", "--turn-password", "pushed-pw")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.allocate("--turn-username", "wic-push-1", "--turn-password", "not-it")
        self.assertEqual(kv(r.stdout).get("turn_error"), "401")
        time.sleep(5)
        r = self.allocate("--turn-username", "wic-push-1", "--turn-password", "pushed-pw")
        self.assertEqual(kv(r.stdout).get("turn_error"), "401")

    def test_revocation_tears_down_the_live_allocation(self):
        code, _ = post(self.api + "/v1/credentials", {"username": "wic-push-2", "password": "pushed-pw",
                                                     "expires": int(time.time()) + 600})
        self.assertEqual(code, 200)

        async def scenario():
            transport, _ = await turn.create_turn_endpoint(
                asyncio.DatagramProtocol, ("127.0.0.1", self.udp), "wic-push-2", "pushed-pw", lifetime=600)
            proto = transport._TurnTransport__inner_protocol
            before = json.loads(http_get(self.api + "/health"))["allocations"]
            self.assertGreaterEqual(before, 1)
            code, _ = post(self.api + "/v1/revocations", {"username": "wic-push-2", "until": int(time.time()) + 600})
            self.assertEqual(code, 200)
            # Torn down within seconds: the workers sweep every second.
            deadline = time.time() + 5
            while time.time() < deadline:
                m = http_get(self.api + "/metrics")
                if metric(m, "webims_turn_allocations_deleted_total", reason="credential_revoked") >= 1:
                    break
                await asyncio.sleep(0.2)
            self.assertGreaterEqual(metric(http_get(self.api + "/metrics"), "webims_turn_allocations_deleted_total",
                                           reason="credential_revoked"), 1)
            # The client's own Refresh now gets 401 (its allocation is gone and its name refused).
            req = stun.Message(message_method=stun.Method.REFRESH, message_class=stun.Class.REQUEST)
            req.attributes["LIFETIME"] = 600
            with self.assertRaises(stun.TransactionFailed) as cm:
                await proto.request_with_retry(req)
            self.assertEqual(cm.exception.response.attributes["ERROR-CODE"][0], 401)
            proto.refresh_handle.cancel()
            proto.transport.close()

        asyncio.run(asyncio.wait_for(scenario(), 30))
        r = self.allocate("--turn-username", "wic-push-2", "--turn-password", "pushed-pw")
        self.assertEqual(kv(r.stdout).get("turn_error"), "401")


class CoturnAcceptsOurTokens(unittest.TestCase):
    """(b) our codec's tokens at coturn's turnserver with --oauth and the key in its sqlite userdb."""

    @classmethod
    def setUpClass(cls):
        cls.coturn = Coturn("--oauth", "--lt-cred-mech", "--realm", REALM, "--server-name", SERVER_NAME,
                            relay_ports=(44200, 44299), name="coturn-oauth")
        cls.addClassCleanup(cls.coturn.stop)
        with open("/usr/share/coturn/schema.sql") as f:
            schema = f.read()
        con = sqlite3.connect(cls.coturn.userdb)
        con.executescript(schema)
        con.execute("INSERT INTO oauth_key(kid, ikm_key, timestamp, lifetime, as_rs_alg, realm) "
                    "VALUES ('north', ?, 0, 0, 'A256GCM', ?)", (KEY, REALM))
        con.commit()
        con.close()
        cls.coturn.start()
        cls.port = cls.coturn.port

    def allocate(self, grant):
        return wic("turn-cred", "--allocate", f"turn:127.0.0.1:{self.port}?transport=udp", "--oauth-grant", "-",
                   "--oauth-coturn", stdin=grant)

    def test_our_token_allocates_at_coturn(self):
        g = wic("oauth-token", "--kid", "north", "--key", KEY, "--server-name", SERVER_NAME)
        self.assertEqual(g.returncode, 0, g.stderr)
        r = self.allocate(g.stdout)
        self.assertEqual(r.returncode, 0, r.stderr + self.coturn.read_log()[-2000:])
        self.assertTrue(kv(r.stdout)["relayed"].startswith("127.0.0.1:"))

    def test_our_token_under_another_key_is_refused_by_coturn(self):
        other = base64.b64encode(os.urandom(32)).decode()
        g = wic("oauth-token", "--kid", "north", "--key", other, "--server-name", SERVER_NAME)
        r = self.allocate(g.stdout)
        self.assertEqual(kv(r.stdout).get("turn_error"), "401")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
