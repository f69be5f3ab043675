"""Capture files: exactly what came off the serial line, for deterministic replay.

Format (docs/capture-format.md): UTF-8 text, one received line per line:
    <unix time, seconds with 6 decimals>\\t<the raw line without its newline>
Lines starting with '#' are comments; the header is
    # shelf-node capture v1
    # key: value            (node, config_digest, protocol, channels, source, ...)
Raw bytes that are not printable ASCII are kept as backslash escapes (\\xNN, \\\\) so a
corrupted serial line survives the round trip byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from edge.errors import CaptureError

MAGIC = "# shelf-node capture v1"
_ESCAPE = re.compile(rb"[^\x20-\x5b\x5d-\x7e]")  # everything but printable ASCII, and the backslash
_UNESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|\\)")


def escape_line(raw: bytes) -> str:
    return _ESCAPE.sub(lambda m: b"\\\\" if m.group() == b"\\" else b"\\x%02x" % m.group()[0], raw).decode("ascii")


def unescape_line(text: str) -> bytes:
    def repl(match: re.Match[str]) -> str:
        token = match.group(1)
        return "\\" if token == "\\" else chr(int(token[1:], 16))

    return _UNESCAPE.sub(repl, text).encode("latin-1")


class CaptureWriter:
    """Append received lines to a capture file. Flushes every `flush_every` lines."""

    def __init__(self, path: str | Path, header: dict[str, str] | None = None, flush_every: int = 50) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("w", encoding="utf-8", newline="\n")
        self._file.write(MAGIC + "\n")
        for key, value in (header or {}).items():
            self._file.write(f"# {key}: {value}\n")
        self._pending = 0
        self._flush_every = flush_every

    def write(self, t: float, raw: bytes) -> None:
        text = escape_line(raw.rstrip(b"\r\n"))
        self._file.write(f"{t:.6f}\t{text}\n")
        self._pending += 1
        if self._pending >= self._flush_every:
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_header(path: str | Path) -> dict[str, str]:
    header: dict[str, str] = {}
    with Path(path).open(encoding="utf-8") as file:
        first = file.readline().rstrip("\n")
        if first != MAGIC:
            raise CaptureError(f"{path}: not a shelf-node capture (first line must be {MAGIC!r})")
        for line in file:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition(":")
            header[key.strip()] = value.strip()
    return header


def read_capture(path: str | Path) -> Iterator[tuple[float, bytes]]:
    """Yield (time, raw line) in file order. A malformed line raises CaptureError naming it."""
    with Path(path).open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if line.startswith("#") or not line.strip():
                continue
            stamp, tab, rest = line.rstrip("\n").partition("\t")
            try:
                t = float(stamp)
            except ValueError:
                raise CaptureError(f"{path}:{number}: expected '<unix time>\\t<line>', got {line[:40]!r}") from None
            if not tab:
                raise CaptureError(f"{path}:{number}: missing TAB between time and line")
            yield t, unescape_line(rest)
