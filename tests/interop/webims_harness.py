"""Starts `webims` servers for interop tests: a temporary directory, a config file, free loopback
ports, readiness by polling /health, and a clean stop (SIGTERM to the PID we started, only)."""
import json
import os
import signal
import socket
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
