#!/usr/bin/env python3
"""Abusive clients of the query API for api_flood_test.py, run as an
unprivileged user:
- `flood HOST PORT N SECONDS`: opens N idle TCP connections, prints
  `open N`, holds them SECONDS, then prints `closed K` (how many the agent
  closed) and exits.
- `slow HOST PORT`: sends a request one byte a second; prints `connected`,
  then `dropped after S` once the agent closes the connection.
"""
import select
import socket
import sys
import time


def flood(host, port, n, seconds):
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect((host, port))
        conns.append(s)
    print(f"open {len(conns)}", flush=True)
    time.sleep(seconds)
    closed = 0
    for s in conns:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                closed += s.recv(1) == b""
            except ConnectionResetError:
                closed += 1
    print(f"closed {closed}", flush=True)


def slow(host, port):
    s = socket.create_connection((host, port))
    print("connected", flush=True)
    start = time.monotonic()
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n":
        try:
            s.send(bytes([byte]))
        except OSError:
            break
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                if s.recv(1) == b"":
                    break
            except ConnectionResetError:
                break
    print(f"dropped after {time.monotonic() - start:.1f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "flood":
        flood(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
              float(sys.argv[5]))
    else:
        slow(sys.argv[2], int(sys.argv[3]))
