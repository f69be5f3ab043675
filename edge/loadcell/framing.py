"""Framed protocol primitives shared by the parser and the simulator (see docs/serial-protocol.md).

A frame is `$<body>*HH\\n` where HH is the XOR of every byte of <body> in hex.
"""

from __future__ import annotations

from collections.abc import Iterable


def checksum(body: bytes) -> int:
    """XOR of every byte strictly between '$' and '*' (NMEA style)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def encode_frame(fields: Iterable[object]) -> bytes:
    """`encode_frame(["W", 7, 1200, 5, None])` -> b'$W,7,1200,5,*HH\\n' (None = empty field)."""
    body = ",".join("" if f is None else str(f) for f in fields).encode("ascii")
    return b"$" + body + b"*" + f"{checksum(body):02X}".encode("ascii") + b"\n"


def weight_frame(seq: int, mcu_ms: int, counts: Iterable[int | None]) -> bytes:
    return encode_frame(["W", seq % 2**32, mcu_ms % 2**32, *counts])


def info_frame(firmware: str, channels: int, sps: float, uid: str) -> bytes:
    return encode_frame(["I", f"fw={firmware}", f"ch={channels}", f"sps={sps:g}", f"uid={uid}"])


QUERY = encode_frame(["Q"])  # host -> MCU: please send your info frame
