#!/usr/bin/python3
"""Interop: the command-line WIC (`webims wic`) against `webims pcscf` + `webims core` (+ `turn`):
IMS AKA (AKAv2-MD5 over a software ISIM) including an SQN resynchronisation, a Solution 1 TURN
credential by OPTIONS used for a TURN allocation, MESSAGE and a call between two CLI WICs.
usage: wic_test.py WEBIMS_BINARY
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webims_harness import Server, core_pcscf_config, free_port, http_get, metric  # noqa: E402

BINARY = None
# TS 35.208 test set 1.
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"


class WicInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ws, cls.core_port, cls.pcscf_sip = free_port(), free_port(), free_port()
        cls.core_ctl, cls.pcscf_ctl, cls.turn_port, cls.turn_ctl = free_port(), free_port(), free_port(), free_port()
        config = core_pcscf_config(ws=cls.ws, core_port=cls.core_port, core_ctl=cls.core_ctl, pcscf_sip=cls.pcscf_sip,
                                   pcscf_ctl=cls.pcscf_ctl, turn_uris=[f"turn:127.0.0.1:{cls.turn_port}?transport=udp"]) + f"""
[turn]
listen = ["udp://127.0.0.1:{cls.turn_port}"]
relay_address = "127.0.0.1"
relay_ports = "45000-45999"
allowed_peer_ranges = ["127.0.0.0/8"]
control_listen = "http://127.0.0.1:{cls.turn_ctl}"
[[turn.secrets]]
id = "k1"
secret = "wic-test-km"
"""
        cls.core = Server(BINARY, "core", config, "wic-test")
        # One configuration file for the three processes, as in a real deployment.
        cls.pcscf = Server(BINARY, "pcscf", "", "wic-test-pcscf")
        cls.pcscf.config = cls.core.config
        cls.turn = Server(BINARY, "turn", "", "wic-test-turn")
        cls.turn.config = cls.core.config
        cls.dir = cls.core.dir
        for args in (["subscriber", "add", "--impi", "dave@ims.example.org", "--impu", "sip:dave@ims.example.org",
                      "--aka-k", K, "--aka-opc", OPC],
                     ["subscriber", "add", "--impi", "alice@ims.example.org", "--impu", "sip:alice@ims.example.org",
                      "--password", "alice-pw"],
                     ["subscriber", "add", "--impi", "bob@ims.example.org", "--impu", "sip:bob@ims.example.org",
                      "--password", "bob-pw"]):
            r = cls.core.admin(*args)
            assert r.returncode == 0, r.stderr
        cls.core.start(f"http://127.0.0.1:{cls.core_ctl}/health")
        cls.turn.start(f"http://127.0.0.1:{cls.turn_ctl}/health")
        cls.pcscf.start(f"http://127.0.0.1:{cls.pcscf_ctl}/health")
        cls.ca = os.path.join(cls.dir, "tls", "ca.pem")

    @classmethod
    def tearDownClass(cls):
        for s in (cls.pcscf, cls.turn, cls.core):
            assert s.stop() == 0, f"webims {s.command} did not exit cleanly"

    def wic(self, *args, timeout=30, check=True):
        cmd = [BINARY, "wic", *args, "--url", f"wss://127.0.0.1:{self.ws}", "--ca-file", self.ca, "--timeout", "10"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check:
            self.assertEqual(r.returncode, 0, f"{' '.join(args[:1])}: {r.stdout}{r.stderr}")
        out = {}
        for line in r.stdout.splitlines():
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
        return r, out

    def core_metric(self, name, **labels):
        return metric(http_get(f"http://127.0.0.1:{self.core_ctl}/metrics"), name, **labels)

    def test_aka_registration_and_resynchronisation(self):
        sqn_file = os.path.join(self.dir, "dave.sqn")
        aka = ["--impu", "sip:dave@ims.example.org", "--impi", "dave@ims.example.org", "--aka-k", K,
               "--aka-opc", OPC, "--aka-sqn-file", sqn_file]
        _, out = self.wic("register", *aka, "--deregister")
        self.assertEqual(out["registered"], ["1"])
        self.assertEqual(out["associated_uris"], ["sip:dave@ims.example.org"])
        # The ISIM jumps ahead of the HSS (a USIM used elsewhere): the next AUTN is not fresh, the
        # ISIM answers with AUTS, the HSS resynchronises and challenges again (RFC 3310 §3.4).
        with open(sqn_file, "w") as f:
            f.write("".join(f"{ind} 1000000\n" for ind in range(32)))
        before = self.core_metric("webims_core_auth_failures_total", reason="sync_failure")
        _, out = self.wic("register", *aka, "--deregister")
        self.assertEqual(out["registered"], ["1"])
        self.assertEqual(self.core_metric("webims_core_auth_failures_total", reason="sync_failure"), before + 1)
        # In sequence again: no further resynchronisation.
        _, out = self.wic("register", *aka, "--deregister")
        self.assertEqual(out["registered"], ["1"])
        self.assertEqual(self.core_metric("webims_core_auth_failures_total", reason="sync_failure"), before + 1)
        # A wrong K never registers.
        r, _ = self.wic("register", "--impu", "sip:dave@ims.example.org", "--impi", "dave@ims.example.org",
                        "--aka-k", "00" * 16, "--aka-opc", OPC, check=False)
        self.assertEqual(r.returncode, 1)

    def test_turn_credential_by_options_allocates_and_an_expired_one_does_not(self):
        _, out = self.wic("turn-cred", "--impu", "sip:alice@ims.example.org", "--password", "alice-pw",
                          "--allocate", "auto")
        self.assertIn("relayed", out, out)
        self.assertTrue(out["relayed"][0].startswith("127.0.0.1:"))
        tid, texp = out["turn_username"][0].split(":")
        self.assertGreater(int(texp), time.time())
        self.assertFalse(tid.isdigit())
        # X.5.2 step 7: an expired credential gets 401 from the TURN server.
        import base64, hashlib, hmac
        user = f"{tid}:{int(time.time()) - 5}"
        pw = base64.b64encode(hmac.new(b"wic-test-km", user.encode(), hashlib.sha1).digest()).decode()
        r, out = self.wic("turn-cred", "--allocate", f"turn:127.0.0.1:{self.turn_port}?transport=udp",
                          "--turn-username", user, "--turn-password", pw, check=False)
        self.assertEqual(out.get("turn_error"), ["401"], r.stdout + r.stderr)

    def test_message_and_call_between_two_cli_wics(self):
        bob = subprocess.Popen([BINARY, "wic", "answer", "--auto", "--duration", "20", "--max-events", "2",
                                "--url", f"wss://127.0.0.1:{self.ws}", "--ca-file", self.ca,
                                "--impu", "sip:bob@ims.example.org", "--password", "bob-pw", "--deregister"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(100):  # bob registered?
                if self.core_metric("webims_core_registrations") >= 1 or bob.poll() is not None:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            _, out = self.wic("message", "--impu", "sip:alice@ims.example.org", "--password", "alice-pw",
                              "--to", "sip:bob@ims.example.org", "--text", "hello from the CLI")
            self.assertEqual(out["status"], ["200"])
            _, out = self.wic("call", "--impu", "sip:alice@ims.example.org", "--password", "alice-pw",
                              "--to", "sip:bob@ims.example.org", "--hold", "1")
            self.assertEqual(out["status"], ["200"])
            self.assertEqual(out["bye_status"], ["200"])
            stdout, stderr = bob.communicate(timeout=30)
        finally:
            if bob.poll() is None:
                bob.kill()
        self.assertIn("received_message=hello from the CLI", stdout, stderr)
        self.assertIn("call_ended=", stdout, stderr)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
