#!/usr/bin/python3
"""Writes the seed corpus of turn_server_fuzz.cpp: scripts of events (see the record format there)
that walk an allocation through its life, so the fuzzer starts deep in the state machine."""
import os
import struct

COOKIE = 0x2112A442
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "turn_server")


def rec(op, data):
    return bytes([op]) + struct.pack("!H", len(data)) + data


def tlv(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def xor_peer(ip, port):
    a = bytes(int(x) for x in ip.split("."))
    x = struct.unpack("!I", a)[0] ^ COOKIE
    return tlv(0x0012, struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), x))


def signed(client, method_index, *tlvs, flags=0):
    return rec(1, bytes([client, method_index | flags]) + b"".join(tlvs))


def raw_allocate(client):
    body = tlv(0x0019, b"\x11\0\0\0")
    # first byte of a STUN message is 0, so the harness uses client 0; others get a signed retry
    return rec(0, struct.pack("!HHI", 0x0003, len(body), COOKIE) + bytes(12) + body)


transport = tlv(0x0019, b"\x11\0\0\0")
seeds = {
    "lifecycle": [
        raw_allocate(0),
        signed(0, 1, transport),
        signed(0, 3, xor_peer("127.0.0.1", 40001)),
        signed(0, 4, tlv(0x000C, b"\x40\x01\0\0"), xor_peer("127.0.0.1", 40001)),
        rec(2, bytes([0, 0x00, 0x01]) + b"media from the client"),
        rec(3, bytes([0, 0, 3]) + b"media from the peer"),
        rec(3, bytes([0, 0, 5]) + b"from another port: Data indication"),
        rec(4, bytes([200])),
        signed(0, 2, tlv(0x000D, b"\0\0\0\0")),
    ],
    "sha256_dual": [
        raw_allocate(0),
        signed(0, 1, transport, tlv(0x8000, b"\x02\0\0\0"), flags=0x80 | 0x40 | 0x20 | 0x10),
        signed(0, 3, xor_peer("8.8.8.8", 3478), flags=0x80 | 0x40 | 0x20),
        signed(0, 2, tlv(0x0017, b"\x02\0\0\0"), tlv(0x000D, b"\0\0\0\0"), flags=0x80 | 0x40 | 0x20),
    ],
    "expiry": [
        raw_allocate(0),
        signed(0, 1, transport, tlv(0x0018, b"\x80")),
        rec(4, bytes([255])),
        rec(4, bytes([255])),
        signed(0, 2, tlv(0x000D, b"\0\0\x02\x58")),
    ],
    "tcp_client": [
        rec(0, bytes([3]) + b"garbage from the stream client"),
        signed(3, 1, transport),
        rec(5, b""),
    ],
}
os.makedirs(OUT, exist_ok=True)
for name, records in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b"".join(records))
print(f"wrote {len(seeds)} seeds to {OUT}")
