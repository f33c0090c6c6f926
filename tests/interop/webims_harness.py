"""Starts `webims` servers for interop tests: a temporary directory, a config file, free loopback
ports, readiness by polling /health, and a clean stop (SIGTERM to the PID we started, only).
Also Debian's coturn `turnserver` as the TURN server beside webims, the same way."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def core_pcscf_config(*, ws, core_port, core_ctl, pcscf_sip, pcscf_ctl, turn_uris, core_extra="", pcscf_extra=""):
    """[store], [tls], [core] and [pcscf] of one config file for `webims core` + `webims pcscf` on loopback
    (the eP-CSCF's next hop is that core; "@DIR@" is the Server's directory). Sections that follow
    ([turn], [[turn.secrets]]) are the caller's."""
    uris = ", ".join(f'"{u}"' for u in turn_uris)
    return f"""
[store]
url = "sqlite://@DIR@/webims.db"
[tls]
dir = "@DIR@/tls"
[core]
listen = ["tcp://127.0.0.1:{core_port}"]
control_listen = "http://127.0.0.1:{core_ctl}"
{core_extra}[pcscf]
listen = ["wss://127.0.0.1:{ws}"]
allowed_origins = ["https://localhost:8443"]
sip_listen = ["tcp://127.0.0.1:{pcscf_sip}"]
next_hop = "sip:127.0.0.1:{core_port};transport=tcp"
turn_uris = [{uris}]
control_listen = "http://127.0.0.1:{pcscf_ctl}"
{pcscf_extra}"""


class Server:
    def __init__(self, binary, command, config_text, name="webims"):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix=f"{name}-")
        self.config = os.path.join(self.dir, "webims.toml")
        with open(self.config, "w") as f:
            f.write(config_text.replace("@DIR@", self.dir))
        self.log_path = os.path.join(self.dir, "server.log")
        self.command = command
        self.proc = None

    def start(self, health_url, timeout=15):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, self.command, "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"webims {self.command} exited: {self.read_log()}")
            try:
                with urllib.request.urlopen(health_url, timeout=1) as r:
                    if r.status == 200:
                        return json.loads(r.read())
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"webims {self.command} not ready: {self.read_log()}")

    def admin(self, *args, stdin=None):
        return subprocess.run([self.binary, "admin", "--config", self.config, *args],
                              input=stdin, capture_output=True, text=True, timeout=30)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("webims did not stop on SIGTERM within %ds" % timeout)
        return self.proc.returncode if self.proc else None


class Coturn:
    """coturn's `turnserver` on a free loopback port (UDP and TCP), no TLS/DTLS, no CLI, relaying from
    127.0.0.1 in `relay_ports`, with its pid file, sqlite userdb and log in its own temporary
    directory (nothing under /var), ready once it answers a STUN Binding request, stopped by its PID.
    `args` are the authentication options (e.g. --use-auth-secret --static-auth-secret=KM)."""

    def __init__(self, *args, relay_ports=(46000, 46299), name="coturn"):
        self.dir = tempfile.mkdtemp(prefix=f"{name}-")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "turnserver.log")
        self.userdb = os.path.join(self.dir, "turndb.sqlite")
        self.args = list(args)
        self.relay_ports = relay_ports
        self.proc = None

    def uri(self, transport="udp"):
        return f"turn:127.0.0.1:{self.port}?transport={transport}"

    def start(self, timeout=10):
        db = [] if "--userdb" in self.args else ["--userdb", self.userdb]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["turnserver", "-n", "--listening-ip", "127.0.0.1", "--listening-port", str(self.port),
             "--relay-ip", "127.0.0.1", "--min-port", str(self.relay_ports[0]), "--max-port", str(self.relay_ports[1]),
             "--no-tls", "--no-dtls", "--no-cli", "--pidfile", os.path.join(self.dir, "turnserver.pid"), *db,
             "--log-file", "stdout", "--simple-log", *self.args], stdout=self.log, stderr=subprocess.STDOUT)
        # Ready when its UDP listener answers a Binding request (RFC 8489 §6), not after a fixed sleep.
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(0.2)
        tid = os.urandom(12)
        try:
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"turnserver exited with {self.proc.returncode}: {self.read_log()[-3000:]}")
                probe.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid, ("127.0.0.1", self.port))
                try:
                    data, _ = probe.recvfrom(2048)
                    if data[:2] == b"\x01\x01" and data[8:20] == tid:
                        return self
                except OSError:
                    pass
            raise RuntimeError(f"turnserver not ready after {timeout}s: {self.read_log()[-3000:]}")
        finally:
            probe.close()

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def http_get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def metric(text, name, **labels):
    """The value of one Prometheus sample, 0 if absent."""
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == want:
            return float(value)
    return 0.0
