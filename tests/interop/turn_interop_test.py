#!/usr/bin/python3
"""Interop: `webims turn` driven by real TURN clients.

 - coturn's turnutils_uclient allocates and relays (ChannelData and Send indications) through webims
   over UDP, TCP and TLS with Solution 1 credentials (its -W REST-API secret mode, "Texp:user"),
   with webims' own "Tid:Texp" order, and with a static user from `webims admin turn-user`;
 - aioice (an independent Python TURN client) relays both ways, and shows the exact error codes:
   401 for expired and forged credentials, 401 for requests after Texp (and the allocation is torn
   down), 403 for a loopback peer unless allowed, and two allocations relaying to each other on the
   server's loopback relay address with no allowed_peer_ranges (only their live relay sockets);
 - beside an existing coturn (README "Beside an existing coturn"): Solution 1 credentials minted by
   webims (`webims admin turn-credential`, and the eP-CSCF's answer to a WIC's REGISTER or OPTIONS
   with `3gpp-ext-turn-cred: request`) allocate and relay at coturn's `turnserver` configured with
   --use-auth-secret and the same Km; one minted under another Km, and an expired one, get 401.
usage: turn_interop_test.py WEBIMS_BINARY   (needs Debian coturn and python3-aioice)
"""
import asyncio
import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webims_harness import Coturn, Server, core_pcscf_config, free_port, http_get, metric  # noqa: E402

import aioice.stun as stun  # noqa: E402
import aioice.turn as turn  # noqa: E402

# aioice 0.8 speaks ChannelData only and does not know the DATA attribute (RFC 8656 §18.4) that
# Send and Data indications carry: teach its codec, so the tests below can use indications too.
if "DATA" not in stun.ATTRIBUTES_BY_NAME:
    _data = (0x0013, "DATA", stun.pack_bytes, stun.unpack_bytes)
    stun.ATTRIBUTES_BY_TYPE[_data[0]] = stun.ATTRIBUTES_BY_NAME[_data[1]] = _data

BINARY = None
SECRET = "interop-secret"
REALM = "interop.example.org"


def solution1(tid, texp, secret=SECRET):
    user = f"{tid}:{texp}"
    pw = base64.b64encode(hmac.new(secret.encode(), user.encode(), hashlib.sha1).digest()).decode()
    return user, pw


def config(udp, tls, control, allowed=True):
    return f"""
[log]
level = "info"
[store]
url = "sqlite://@DIR@/webims.db"
[tls]
dir = "@DIR@/tls"
[turn]
listen = ["udp://127.0.0.1:{udp}", "tcp://127.0.0.1:{udp}", "tls://127.0.0.1:{tls}", "udp://[::1]:{udp}", "tcp://[::1]:{udp}"]
realm = "{REALM}"
relay_address = "127.0.0.1"
relay_address_v6 = "::1"
relay_ports = "41000-41999"
allowed_peer_ranges = {'["127.0.0.0/8", "::1/128"]' if allowed else '[]'}
user_quota = 0
control_listen = "http://127.0.0.1:{control}"
[[turn.secrets]]
id = "current"
secret = "{SECRET}"
[[turn.secrets]]
id = "previous"
secret = "rotated-out-soon"
"""


def run_uclient(test, *args, port, messages=60, clients=3, host="127.0.0.1"):
    """coturn's turnutils_uclient against `port`: every message sent must come back, none lost.
    The peer leg is UDP: on a loaded machine uclient can stop waiting before its last echo is back, so a
    run that lost messages is run once more, and that second run must lose none."""
    cmd = ["turnutils_uclient", "-n", str(messages), "-m", str(clients), "-l", "120", "-p", str(port), *args, host]
    for attempt in (1, 2):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        text = out.stdout + out.stderr
        sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", text)
        lost = re.search(r"Total lost packets (\d+)", text)
        if attempt == 1 and "ERROR" not in text and sent and lost and int(lost.group(1)) > 0:
            print(f"uclient {' '.join(args)}: {lost.group(1)} of {sent[-1][0]} lost, running it once more", file=sys.stderr)
            continue
        break
    test.assertNotIn("ERROR", text, text[-2000:])
    test.assertTrue(sent and lost, f"uclient did not finish: {text[-2000:]}")
    s, r = map(int, sent[-1])
    test.assertGreaterEqual(s, messages * clients)
    test.assertEqual(r, s, f"not every message came back: {text[-1000:]}")
    test.assertEqual(int(lost.group(1)), 0)


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class Collect(asyncio.DatagramProtocol):
    def __init__(self):
        self.received = asyncio.Queue()

    def connection_made(self, transport):
        pass

    def datagram_received(self, data, addr):
        self.received.put_nowait((data, addr))


def inner(transport):
    return transport._TurnTransport__inner_protocol


class TurnInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("turnutils_uclient", "turnutils_peer"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} not found: install Debian coturn (scripts/setup.sh)")
        cls.udp, cls.tls, cls.control, cls.peer_port = free_port(), free_port(), free_port(), free_port()
        cls.server = Server(BINARY, "turn", config(cls.udp, cls.tls, cls.control), "turn-interop")
        # A static user, added the way an operator would, before and while the server runs.
        r = cls.server.admin("turn-user", "add", "alice", "--password", "wonderland")
        assert r.returncode == 0, r.stderr
        cls.health = cls.server.start(f"http://127.0.0.1:{cls.control}/health")
        cls.peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-L", "::1", "-p", str(cls.peer_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    @classmethod
    def tearDownClass(cls):
        cls.peer.terminate()
        cls.peer.wait()
        rc = cls.server.stop()
        log = cls.server.read_log()
        assert rc == 0, f"webims turn exit code {rc}"
        assert "stopped" in log
        # Secrets never reach the log.
        for secret in (SECRET, "rotated-out-soon", "wonderland"):
            assert secret not in log, f"secret {secret!r} found in the log"

    def metrics(self):
        return http_get(f"http://127.0.0.1:{self.control}/metrics")

    # -- coturn's turnutils_uclient -----------------------------------------------------------

    def uclient(self, *args, port=None, messages=60, clients=3, host="127.0.0.1"):
        run_uclient(self, "-e", host, "-r", str(self.peer_port), *args, port=port or self.udp, messages=messages,
                    clients=clients, host=host)

    def test_uclient_solution1_udp_channels(self):
        self.uclient("-W", SECRET, "-u", "bench")

    def test_uclient_solution1_udp_send_indications(self):
        self.uclient("-s", "-W", SECRET, "-u", "bench")

    def test_uclient_solution1_tcp(self):
        self.uclient("-t", "-W", SECRET, "-u", "bench")

    def test_uclient_solution1_tls(self):
        self.uclient("-t", "-S", "-W", SECRET, "-u", "bench", port=self.tls)

    def test_uclient_ipv6_udp_and_tcp(self):
        """IPv6 listener, IPv6 relay (REQUESTED-ADDRESS-FAMILY), incl. uclient's RESERVATION-TOKEN pair."""
        self.uclient("-x", "-W", SECRET, "-u", "bench", host="::1")
        self.uclient("-t", "-x", "-W", SECRET, "-u", "bench", host="::1")

    def test_uclient_webims_order_tid_texp(self):
        user, pw = solution1("Xq3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600)
        self.uclient("-u", user, "-w", pw)

    def test_uclient_credential_from_the_previous_key(self):
        user, pw = solution1("Rt5nB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600, secret="rotated-out-soon")
        self.uclient("-u", user, "-w", pw)

    def test_uclient_static_user_udp_tcp_tls(self):
        self.uclient("-u", "alice", "-w", "wonderland")
        self.uclient("-t", "-u", "alice", "-w", "wonderland")
        self.uclient("-t", "-S", "-u", "alice", "-w", "wonderland", port=self.tls)

    # -- aioice -------------------------------------------------------------------------------

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 30))

    async def allocate(self, user, pw, transport="udp"):
        return await turn.create_turn_endpoint(Collect, ("127.0.0.1", self.udp), user, pw,
                                               lifetime=600, transport=transport)

    def test_aioice_relays_both_ways(self):
        async def go():
            loop = asyncio.get_running_loop()
            echo, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
            echo_addr = echo.get_extra_info("sockname")
            user, pw = solution1("Ab3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600)
            t, proto = await self.allocate(user, pw)
            relayed = t.get_extra_info("sockname")
            self.assertEqual(relayed[0], "127.0.0.1")
            for i in range(5):
                t.sendto(b"ping %d" % i, echo_addr)
                data, addr = await asyncio.wait_for(proto.received.get(), 5)
                self.assertEqual(data, b"ping %d" % i)
                self.assertEqual(addr, echo_addr)
            t.close()
            await asyncio.sleep(0.2)
            echo.close()
        self.run_async(go())

    def assert_refused(self, coro_fn, code):
        async def go():
            with self.assertRaises(stun.TransactionFailed) as ctx:
                await coro_fn()
            self.assertEqual(ctx.exception.response.attributes["ERROR-CODE"][0], code)
        self.run_async(go())

    def test_expired_credential_gets_401(self):
        before = metric(self.metrics(), "webims_turn_auth_failures_total", reason="expired_credential")
        user, pw = solution1("Ex3mB7kPzR2vN8sL0aYcDw", int(time.time()) - 1)
        self.assert_refused(lambda: self.allocate(user, pw), 401)
        after = metric(self.metrics(), "webims_turn_auth_failures_total", reason="expired_credential")
        self.assertGreater(after, before)

    def test_forged_credential_gets_401(self):
        user, _ = solution1("Fo3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600)
        _, pw = solution1("Fo3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600, secret="guessed")
        self.assert_refused(lambda: self.allocate(user, pw), 401)
        # Changing Texp breaks the password too.
        _, good = solution1("Fo3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600)
        self.assert_refused(lambda: self.allocate(f"Fo3mB7kPzR2vN8sL0aYcDw:{int(time.time()) + 999999}", good), 401)

    def test_credential_lifetime_enforced_after_allocate(self):
        """coturn checks Texp only at Allocate (#888, #774); webims ends the allocation at Texp."""
        async def go():
            user, pw = solution1("Lt3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3)
            t, proto = await self.allocate(user, pw)
            torn = lambda: metric(self.metrics(), "webims_turn_allocations_deleted_total", reason="credential_expired")
            before = torn()
            await asyncio.sleep(5.5)
            # A Refresh with the expired credential is refused...
            req = stun.Message(message_method=stun.Method.REFRESH, message_class=stun.Class.REQUEST)
            req.attributes["LIFETIME"] = 600
            with self.assertRaises(stun.TransactionFailed) as ctx:
                await inner(t).request_with_retry(req)
            self.assertEqual(ctx.exception.response.attributes["ERROR-CODE"][0], 401)
            # ...and the allocation was torn down by the server on its own.
            self.assertEqual(torn(), before + 1)
            inner(t).refresh_handle.cancel()
            inner(t).transport.close()
        self.run_async(go())

    def test_tcp_allocation_with_aioice(self):
        async def go():
            loop = asyncio.get_running_loop()
            echo, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
            user, pw = solution1("Tc3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600)
            t, proto = await self.allocate(user, pw, transport="tcp")
            t.sendto(b"over tcp", echo.get_extra_info("sockname"))
            data, _ = await asyncio.wait_for(proto.received.get(), 5)
            self.assertEqual(data, b"over tcp")
            t.close()
            await asyncio.sleep(0.2)
            echo.close()
        self.run_async(go())

    def test_health_and_metrics(self):
        self.assertEqual(self.health["status"], "ok")
        self.assertIn(f"udp://127.0.0.1:{self.udp}", self.health["listeners"])
        m = self.metrics()
        self.assertIn("# TYPE webims_turn_relayed_packets_total counter", m)
        self.assertEqual(metric(m, "webims_turn_static_users"), 1)
        self.assertEqual(metric(m, "webims_turn_secrets"), 2)


def local_socket_in_relay_range(skip=()):
    """A UDP socket on 127.0.0.1 in the server's relay_ports that is not a relay socket: another
    local service the relay must not reach."""
    for port in range(41000, 42000):
        if port in skip:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            s.setblocking(False)
            return s
        except OSError:
            s.close()
    raise RuntimeError("no free port in 41000-41999")


def capture_data_indications(t):
    """aioice hands only ChannelData to its receiver: collect the Data indications (RFC 8656 §11.4)
    the server sends to this allocation as (peer, data) in a queue."""
    proto = inner(t)
    queue = asyncio.Queue()
    received = proto.datagram_received

    def datagram_received(data, addr):
        try:
            m = stun.parse_message(data)
            if m.message_method == stun.Method.DATA and m.message_class == stun.Class.INDICATION:
                queue.put_nowait((m.attributes["XOR-PEER-ADDRESS"], m.attributes["DATA"]))
                return
        except ValueError:
            pass
        received(data, addr)

    proto.datagram_received = datagram_received
    return queue


async def create_permission(t, peer):
    req = stun.Message(message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST)
    req.attributes["XOR-PEER-ADDRESS"] = peer
    await inner(t).request_with_retry(req)


def send_indication(t, peer, data):
    msg = stun.Message(message_method=stun.Method.SEND, message_class=stun.Class.INDICATION)
    msg.attributes["XOR-PEER-ADDRESS"] = peer
    msg.attributes["DATA"] = data
    inner(t).send_stun(msg, inner(t).server)


class TurnDefaultPolicy(unittest.TestCase):
    """Without allowed_peer_ranges, loopback peers are refused with 403, except the relayed
    transport addresses of this server's live allocations: two clients relayed by the same server
    reach each other with no configuration."""

    @classmethod
    def setUpClass(cls):
        cls.udp, cls.tls, cls.control = free_port(), free_port(), free_port()
        cls.server = Server(BINARY, "turn", config(cls.udp, cls.tls, cls.control, allowed=False), "turn-policy")
        cls.server.start(f"http://127.0.0.1:{cls.control}/health")

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def metric(self, name, **labels):
        return metric(http_get(f"http://127.0.0.1:{self.control}/metrics"), name, **labels)

    def test_loopback_peer_gets_403(self):
        before = self.metric("webims_turn_dropped_total", reason="peer_denied")

        async def go():
            user, pw = solution1("Lo3mB7kPzR2vN8sL0aYcDw", int(time.time()) + 3600)
            t, _ = await turn.create_turn_endpoint(Collect, ("127.0.0.1", self.udp), user, pw)
            # A loopback socket in relay_ports that is not a relay socket of this server.
            service = local_socket_in_relay_range()
            try:
                for peer in (("127.0.0.1", 9), ("10.1.2.3", 9), service.getsockname()):
                    with self.assertRaises(stun.TransactionFailed) as ctx:
                        await inner(t).channel_bind(0x4000, peer)
                    self.assertEqual(ctx.exception.response.attributes["ERROR-CODE"][0], 403)
            finally:
                service.close()
            # A public peer is allowed (nothing is sent to it).
            await inner(t).channel_bind(0x4001, ("8.8.8.8", 9))
            t.close()
            await asyncio.sleep(0.2)
        asyncio.run(asyncio.wait_for(go(), 30))
        self.assertEqual(self.metric("webims_turn_dropped_total", reason="peer_denied"), before + 3)

    def test_two_allocations_reach_each_other_without_allowed_ranges(self):
        """Issue 5: two browsers on one `webims all`, relay-only, with no configuration."""
        own = lambda: self.metric("webims_turn_peers_refused_total", reason="own_address")
        before = own()

        async def go():
            texp = int(time.time()) + 3600
            ta, pa = await turn.create_turn_endpoint(Collect, ("127.0.0.1", self.udp),
                                                     *solution1("Oa3mB7kPzR2vN8sL0aYcDw", texp))
            tb, pb = await turn.create_turn_endpoint(Collect, ("127.0.0.1", self.udp),
                                                     *solution1("Ob3mB7kPzR2vN8sL0aYcDw", texp))
            a_rel, b_rel = ta.get_extra_info("sockname"), tb.get_extra_info("sockname")
            self.assertEqual((a_rel[0], b_rel[0]), ("127.0.0.1", "127.0.0.1"))
            at_a, at_b = capture_data_indications(ta), capture_data_indications(tb)
            service = local_socket_in_relay_range(skip=(a_rel[1], b_rel[1]))
            try:
                # Each allows the other (ICE does both ways); A's first CreatePermission + Send
                # reaches B as a Data indication from A's relayed address.
                await create_permission(tb, a_rel)
                await create_permission(ta, b_rel)
                send_indication(ta, b_rel, b"hello from a")
                self.assertEqual(await asyncio.wait_for(at_b.get(), 5), (a_rel, b"hello from a"))

                # Nothing else on the server's address is a peer: its listener, its control port,
                # a local socket in relay_ports (403), and a Send to that socket on A's permission
                # for 127.0.0.1 (which RFC 8656 keys by IP only) is dropped...
                for peer in (("127.0.0.1", self.udp), ("127.0.0.1", self.control), service.getsockname()):
                    with self.assertRaises(stun.TransactionFailed) as ctx:
                        await create_permission(ta, peer)
                    self.assertEqual(ctx.exception.response.attributes["ERROR-CODE"][0], 403, peer)
                send_indication(ta, service.getsockname(), b"not for you")
                # ...while the next Send to B still arrives (same worker, in order: the drop above
                # has been counted by then).
                send_indication(ta, b_rel, b"second")
                self.assertEqual(await asyncio.wait_for(at_b.get(), 5), (a_rel, b"second"))
                with self.assertRaises(BlockingIOError):
                    service.recvfrom(2048)

                # Channels both ways: B binds one to A (ChannelBind allowed) and sends; A, with a
                # permission but no channel, gets a Data indication. Then A binds one to B, and B,
                # whose channel to A exists, gets ChannelData.
                tb.sendto(b"pong from b", a_rel)
                self.assertEqual(await asyncio.wait_for(at_a.get(), 5), (b_rel, b"pong from b"))
                ta.sendto(b"over a channel", b_rel)
                self.assertEqual(await asyncio.wait_for(pb.received.get(), 5), (b"over a channel", a_rel))
            finally:
                service.close()
                ta.close()
                tb.close()
                await asyncio.sleep(0.2)
        asyncio.run(asyncio.wait_for(go(), 30))
        self.assertEqual(own(), before + 4)

    def test_uclient_client_to_client_without_allowed_ranges(self):
        """coturn's uclient in client-to-client mode (-y): pairs of its clients send to each other's
        relayed address, over channels, Send indications (-s) and TCP (-t), uclient's EVEN-PORT +
        RESERVATION-TOKEN pairs included; none is refused."""
        denied = lambda: self.metric("webims_turn_dropped_total", reason="peer_denied")
        before = denied()
        for mode in ([], ["-s"], ["-t"]):
            run_uclient(self, "-y", "-W", SECRET, "-u", "bench", *mode, port=self.udp, messages=20, clients=2)
        self.assertEqual(denied(), before)


BESIDE_KM = "beside-coturn-km-4f9a1c"
BESIDE_REALM = "ims.example.org"
COTURN_RELAY_PORTS = (46000, 46299)


def kv_lists(text):
    """`webims wic`/`admin` key=value output: every value of each key, in order."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out.setdefault(k, []).append(v)
    return out


@unittest.skipUnless(shutil.which("turnserver"),
                     "turnserver not found: the coturn-beside-webims checks need Debian coturn (scripts/setup.sh)")
class BesideCoturn(unittest.TestCase):
    """An operator keeps coturn and lets the eP-CSCF hand out credentials for it (protocols.md "TURN
    credentials, Solution 1"): coturn with --use-auth-secret, --static-auth-secret=Km and the realm;
    webims `pcscf` + `core` with the same Km in [[turn.secrets]] and [pcscf] turn_uris naming coturn.
    No `webims turn` runs here: every allocation below is coturn's."""

    @classmethod
    def setUpClass(cls):
        cls.coturn = Coturn("--use-auth-secret", f"--static-auth-secret={BESIDE_KM}", f"--realm={BESIDE_REALM}",
                            "--allow-loopback-peers", relay_ports=COTURN_RELAY_PORTS, name="coturn-beside")
        cls.addClassCleanup(cls.coturn.stop)
        cls.coturn.start()
        cls.peer_port = free_port()
        cls.peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(cls.peer_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.addClassCleanup(lambda: (cls.peer.terminate(), cls.peer.wait()))

        cls.ws, cls.core_port, cls.pcscf_sip = free_port(), free_port(), free_port()
        cls.core_ctl, cls.pcscf_ctl = free_port(), free_port()
        cls.turn_uris = [cls.coturn.uri("udp"), cls.coturn.uri("tcp")]
        config = core_pcscf_config(ws=cls.ws, core_port=cls.core_port, core_ctl=cls.core_ctl, pcscf_sip=cls.pcscf_sip,
                                   pcscf_ctl=cls.pcscf_ctl, turn_uris=cls.turn_uris,
                                   core_extra=f'home_domain = "{BESIDE_REALM}"\n',
                                   pcscf_extra='turn_credential_lifetime = "1h"\n') + f"""
[turn]
realm = "{BESIDE_REALM}"
[[turn.secrets]]
id = "coturn"
secret = "{BESIDE_KM}"
"""
        cls.core = Server(BINARY, "core", config, "beside-coturn")
        # One configuration file for both processes, as in a deployment.
        cls.pcscf = Server(BINARY, "pcscf", "", "beside-coturn-pcscf")
        cls.pcscf.config = cls.core.config
        r = cls.core.admin("subscriber", "add", "--impi", f"alice@{BESIDE_REALM}", "--impu",
                           f"sip:alice@{BESIDE_REALM}", "--password", "alice-pw")
        assert r.returncode == 0, r.stderr
        cls.addClassCleanup(cls.stop_webims)
        cls.core.start(f"http://127.0.0.1:{cls.core_ctl}/health")
        cls.pcscf.start(f"http://127.0.0.1:{cls.pcscf_ctl}/health")
        cls.ca = os.path.join(cls.core.dir, "tls", "ca.pem")

    @classmethod
    def stop_webims(cls):
        for s in (cls.pcscf, cls.core):
            assert s.stop() in (0, None), f"webims {s.command} did not exit cleanly"
            if s.proc:
                assert BESIDE_KM not in s.read_log(), f"Km found in the log of webims {s.command}"

    def coturn_log(self):
        return "\n--- turnserver log (tail) ---\n" + self.coturn.read_log()[-3000:]

    def uclient(self, host, port, user, pw, *args):
        """coturn's client allocates at coturn with the credential and relays to turnutils_peer."""
        try:
            run_uclient(self, "-e", "127.0.0.1", "-r", str(self.peer_port), "-u", user, "-w", pw, *args,
                        port=port, host=host, messages=20, clients=2)
        except AssertionError as e:
            raise AssertionError(f"{e}{self.coturn_log()}") from None

    def wic(self, *args, check=True):
        r = subprocess.run([BINARY, "wic", *args, "--url", f"wss://127.0.0.1:{self.ws}", "--ca-file", self.ca,
                            "--timeout", "10"], capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(r.returncode, 0, f"wic {args[0]}: {r.stdout}{r.stderr}{self.coturn_log()}")
        return r, kv_lists(r.stdout)

    def allocate_at_coturn(self, user, pw):
        """`webims wic`'s own TURN client: one Allocate at coturn with this credential."""
        r = subprocess.run([BINARY, "wic", "turn-cred", "--allocate", self.coturn.uri("udp"), "--turn-username", user,
                            "--turn-password", pw, "--timeout", "10"], capture_output=True, text=True, timeout=60)
        return r, kv_lists(r.stdout)

    def assert_relayed_by_coturn(self, relayed):
        host, _, port = relayed.rpartition(":")
        self.assertEqual(host, "127.0.0.1")
        self.assertTrue(COTURN_RELAY_PORTS[0] <= int(port) <= COTURN_RELAY_PORTS[1],
                        f"relayed {relayed} is not in coturn's relay range {COTURN_RELAY_PORTS}")

    def admin_credential(self, server, *args):
        r = server.admin("turn-credential", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = kv_lists(r.stdout)
        return out["username"][0], out["password"][0]

    def test_admin_turn_credential_relays_at_coturn(self):
        user, pw = self.admin_credential(self.core, "--lifetime", "1h")
        tid, texp = user.split(":")
        self.assertFalse(tid.isdigit(), "coturn would read an all-digit Tid as the timestamp")
        self.assertGreater(int(texp), time.time())
        self.uclient("127.0.0.1", self.coturn.port, user, pw)
        self.uclient("127.0.0.1", self.coturn.port, user, pw, "-t")
        # coturn's own "Texp:Tid" order, when webims is told to mint it.
        user, pw = self.admin_credential(self.core, "--lifetime", "1h", "--coturn-order")
        self.assertTrue(user.split(":")[0].isdigit(), user)
        self.uclient("127.0.0.1", self.coturn.port, user, pw)

    def test_registered_wic_gets_coturn_and_a_credential_it_accepts(self):
        """The real path: REGISTER with 3gpp-ext-turn-cred: request through `webims pcscf`; the 200 OK's
        credential, at each URI of the header's uri parameters (coturn's), allocates and relays."""
        _, out = self.wic("register", "--impu", f"sip:alice@{BESIDE_REALM}", "--password", "alice-pw",
                          "--turn-cred", "--deregister")
        self.assertEqual(out.get("registered"), ["1"], out)
        self.assertEqual(out.get("turn_uri"), self.turn_uris)
        user, pw = out["turn_username"][0], out["turn_password"][0]
        tid, texp = user.split(":")
        self.assertFalse(tid.isdigit())
        self.assertEqual(int(texp), int(out["turn_expires"][0]))
        self.assertGreater(int(texp), time.time())
        for uri in out["turn_uri"]:
            m = re.fullmatch(r"turn:([0-9.]+):(\d+)\?transport=(udp|tcp)", uri)
            self.assertTrue(m, uri)
            self.uclient(m.group(1), int(m.group(2)), user, pw, *(["-t"] if m.group(3) == "tcp" else []))
        # The same credential through webims' own TURN client.
        r, alloc = self.allocate_at_coturn(user, pw)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.coturn_log())
        self.assert_relayed_by_coturn(alloc["relayed"][0])

    def test_options_credential_allocates_at_coturn(self):
        """OPTIONS with 3gpp-ext-turn-cred: request on the registered connection; `--allocate auto`
        takes the first turn: URI over UDP the eP-CSCF listed: coturn's."""
        _, out = self.wic("turn-cred", "--impu", f"sip:alice@{BESIDE_REALM}", "--password", "alice-pw",
                          "--allocate", "auto", "--deregister")
        self.assertEqual(out.get("turn_uri"), self.turn_uris)
        self.assertIn("relayed", out, out)
        self.assert_relayed_by_coturn(out["relayed"][0])

    def test_coturn_refuses_another_km_and_an_expired_credential(self):
        other = Server(BINARY, "pcscf", """
[store]
url = "sqlite://@DIR@/webims.db"
[[turn.secrets]]
id = "elsewhere"
secret = "not-coturns-km"
""", "beside-coturn-other")
        user, pw = self.admin_credential(other, "--lifetime", "1h")
        r, out = self.allocate_at_coturn(user, pw)
        self.assertEqual(out.get("turn_error"), ["401"], r.stdout + r.stderr + self.coturn_log())
        # Right Km, Texp passed: coturn checks Texp at Allocate.
        user, _ = self.admin_credential(self.core, "--lifetime", "1h")
        tid = user.split(":")[0]
        user, pw = solution1(tid, int(time.time()) - 5, secret=BESIDE_KM)
        r, out = self.allocate_at_coturn(user, pw)
        self.assertEqual(out.get("turn_error"), ["401"], r.stdout + r.stderr + self.coturn_log())
        # The same Tid with a live Texp is accepted: the 401s above are for the key and the expiry.
        user, pw = solution1(tid, int(time.time()) + 600, secret=BESIDE_KM)
        r, out = self.allocate_at_coturn(user, pw)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.coturn_log())
        self.assert_relayed_by_coturn(out["relayed"][0])

    def test_coturn_checks_texp_only_at_allocate(self):
        """What differs from `webims turn` (which refuses with 401 and tears the allocation down, see
        test_credential_lifetime_enforced_after_allocate): coturn lets an allocation made before Texp
        go on being refreshed and used after it (coturn #888, #774), while a new Allocate gets 401.
        If this starts failing, coturn changed and the README's "Beside an existing coturn" with it."""
        user, _ = self.admin_credential(self.core, "--lifetime", "1h")
        texp = int(time.time()) + 2
        user, pw = solution1(user.split(":")[0], texp, secret=BESIDE_KM)

        async def go():
            t, _ = await turn.create_turn_endpoint(Collect, ("127.0.0.1", self.coturn.port), user, pw, lifetime=600)
            try:
                # Past Texp by more than coturn's one-second clock resolution.
                await asyncio.sleep(texp + 1.5 - time.time())
                self.assertLess(texp, time.time())
                req = stun.Message(message_method=stun.Method.REFRESH, message_class=stun.Class.REQUEST)
                req.attributes["LIFETIME"] = 600
                response, _ = await inner(t).request_with_retry(req)
                self.assertEqual(response.attributes["LIFETIME"], 600)
                await inner(t).channel_bind(0x4001, ("127.0.0.1", self.peer_port))
                # Allocate is where coturn looks at Texp.
                r, out = await asyncio.to_thread(self.allocate_at_coturn, user, pw)
                self.assertEqual(out.get("turn_error"), ["401"], r.stdout + r.stderr + self.coturn_log())
            finally:
                inner(t).refresh_handle.cancel()
                inner(t).transport.close()
        asyncio.run(asyncio.wait_for(go(), 30))


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
