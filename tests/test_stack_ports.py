"""The launcher's ports (``scripts/stack.py``): a server started seconds after its port was picked
must still get it, beside `make test`'s other suites and their outgoing connections."""

from __future__ import annotations

import socket
from pathlib import Path

from scripts.stack import free_port


def test_picked_ports_lie_below_the_ephemeral_range_and_can_be_listened_on() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(1024 <= port < low for port in ports), ports
    assert len(ports) > 10  # random picks: side-by-side suites rarely meet
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
            s.listen()


def test_a_port_in_use_is_never_handed_out() -> None:
    held = []
    try:
        for _ in range(50):
            s = socket.socket()
            s.bind(("127.0.0.1", free_port()))
            s.listen()
            held.append(s)
        taken = {s.getsockname()[1] for s in held}
        assert len(taken) == 50
        assert free_port() not in taken
    finally:
        for s in held:
            s.close()
