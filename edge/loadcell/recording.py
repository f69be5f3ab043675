"""Capture files: exactly what came off the serial line, for deterministic replay.

Format (docs/capture-format.md): UTF-8 text, one received line per line:
    <unix time, seconds with 6 decimals>\\t<the raw line without its newline>
Lines starting with '#' are comments; the header is
    # shelf-node capture v1
    # key: value            (node, config_digest, protocol, channels, source, ...)
Raw bytes that are not printable ASCII are kept as backslash escapes (\\xNN, \\\\) so a
corrupted serial line survives the round trip byte for byte.

Reading never raises anything but CaptureError naming `FILE:LINE:`: a file damaged after it was
written (random bytes, another tool's output, a torn copy) is answered in words. A data line whose
time and TAB are fine but whose payload holds raw non-ASCII bytes is handed on as those bytes:
it is a corrupt serial line, which the parser counts.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from edge.errors import CaptureError

log = logging.getLogger(__name__)

MAGIC = "# shelf-node capture v1"
_ESCAPE = re.compile(rb"[^\x20-\x5b\x5d-\x7e]")  # everything but printable ASCII, and the backslash
_UNESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|\\)")
# A capture's times are unix seconds: anything outside these bounds (1970 .. 2286) is not a reception time.
T_MIN = 0.0
T_MAX = 1e10
SKIPPED_KEPT = 20  # how many skipped lines a reader remembers (line number and reason) for its report
# The longest capture line: a 4096-byte serial line, every byte escaped (x4), and its time.
MAX_LINE = 64 * 1024


def escape_line(raw: bytes) -> str:
    return _ESCAPE.sub(lambda m: b"\\\\" if m.group() == b"\\" else b"\\x%02x" % m.group()[0], raw).decode("ascii")


def unescape_line(text: str | bytes) -> bytes:
    """The raw bytes of a stored line. Bytes that should have been escaped but were not pass unchanged."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text

    def repl(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        return b"\\" if token == b"\\" else bytes([int(token[1:], 16)])

    return _UNESCAPE.sub(repl, data)


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


def _open(path: str | Path) -> IO[bytes]:
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise CaptureError(f"{path}: cannot read the capture: {exc.strerror or exc}") from None


def read_header(path: str | Path) -> dict[str, str]:
    header: dict[str, str] = {}
    with _open(path) as file:
        first = file.readline(len(MAGIC) + 2).rstrip(b"\r\n")  # bounded: the file may be anything
        if first != MAGIC.encode():
            raise CaptureError(f"{path}: not a shelf-node capture (first line must be {MAGIC!r})")
        for number, line in enumerate(file, start=2):
            if not line.startswith(b"#"):
                break
            try:
                text = line[1:].decode("utf-8")
            except UnicodeDecodeError:
                raise CaptureError(f"{path}:{number}: header line is not UTF-8 text; the file is damaged") from None
            key, _, value = text.strip().partition(":")
            header[key.strip()] = value.strip()
    return header


@dataclass(frozen=True, slots=True)
class SkippedLine:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class CaptureReadStatus:
    """What a capture reader met: data lines handed on, lines skipped (`skip_bad`), backward time steps."""

    data_lines: int
    skipped_lines: int
    time_backwards: int
    largest_backward_step_s: float
    first_skipped: tuple[SkippedLine, ...]  # the first SKIPPED_KEPT of them

    def to_json(self) -> dict[str, object]:
        return {
            "data_lines": self.data_lines,
            "skipped_lines": self.skipped_lines,
            "time_backwards": self.time_backwards,
            "largest_backward_step_s": round(self.largest_backward_step_s, 6),
            "first_skipped": [{"line": s.line, "reason": s.reason} for s in self.first_skipped],
        }


@dataclass
class CaptureReader:
    """Iterate a capture's `(time, raw line)` pairs in file order.

    A line that is not `<time>TAB<line>` (no TAB, a time that is not a number, or an impossible one:
    nan, inf, before 1970 or after 2286) raises CaptureError naming `FILE:LINE:`, or with
    `skip_bad=True` is skipped and counted (`status()`), so a replay can go on past a damaged stretch.
    Time running backwards (a host clock step, lines spliced from two files) is not an error: each
    backward step is counted and the first one logged as a warning; the lines are handed on as they are.

        reader = CaptureReader(path, skip_bad=True)
        for t, raw in reader: ...
        reader.status().skipped_lines
    """

    path: Path
    skip_bad: bool = False
    _data_lines: int = field(default=0, init=False)
    _skipped: int = field(default=0, init=False)
    _first_skipped: list[SkippedLine] = field(default_factory=list, init=False)
    _backwards: int = field(default=0, init=False)
    _largest_back: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        last_t = -math.inf
        with _open(self.path) as file:
            for number, line in enumerate(iter(lambda: file.readline(MAX_LINE), b""), start=1):
                if len(line) == MAX_LINE and not line.endswith(b"\n"):
                    while (rest := file.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                        pass  # skip the rest of the over-long line without holding it
                    self._bad(number, f"line longer than {MAX_LINE} bytes", line)
                    continue
                if line.startswith(b"#") or not line.strip():
                    continue
                parsed = self._parse(line.rstrip(b"\n"), number)
                if parsed is None:
                    continue
                t, raw = parsed
                if t < last_t:
                    self._time_went_back(number, last_t - t)
                last_t = t
                self._data_lines += 1
                yield t, raw

    def _parse(self, line: bytes, number: int) -> tuple[float, bytes] | None:
        stamp, tab, rest = line.partition(b"\t")
        if not tab:
            self._bad(number, "missing TAB between time and line", line)
            return None
        try:
            t = float(stamp.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            self._bad(number, "expected '<unix time>\\t<line>'", line)
            return None
        if not (math.isfinite(t) and T_MIN <= t <= T_MAX):
            self._bad(number, f"impossible time {stamp.decode('ascii')!r} (unix seconds, 1970..2286)", line)
            return None
        return t, unescape_line(rest)

    def _bad(self, number: int, reason: str, line: bytes) -> None:
        if not self.skip_bad:
            raise CaptureError(f"{self.path}:{number}: {reason}, got {line[:40]!r}; "
                               f"replay --skip-bad skips and counts such lines")
        self._skipped += 1
        if len(self._first_skipped) < SKIPPED_KEPT:
            self._first_skipped.append(SkippedLine(number, reason))

    def _time_went_back(self, number: int, step: float) -> None:
        if not self._backwards:
            log.warning("%s:%d: time runs backwards by %.6f s (a host clock step, or lines from two captures?); "
                        "counted, the lines are replayed as they are", self.path, number, step)
        self._backwards += 1
        self._largest_back = max(self._largest_back, step)

    def status(self) -> CaptureReadStatus:
        return CaptureReadStatus(self._data_lines, self._skipped, self._backwards, self._largest_back,
                                 tuple(self._first_skipped))


def read_capture(path: str | Path, skip_bad: bool = False) -> Iterator[tuple[float, bytes]]:
    """Yield (time, raw line) in file order; see CaptureReader for bad lines and backward time."""
    yield from CaptureReader(Path(path), skip_bad)
