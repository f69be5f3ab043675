"""Split an arbitrary byte stream into lines, bounding line length (pure, no I/O).

Like pyserial's `serial.threaded.LineReader`, but a line longer than `max_line_bytes` never
grows the buffer: its first `max_line_bytes + 1` bytes are emitted once (so the parser counts
it as too long, and a capture records it), and everything up to the next newline is skipped.
The stream resynchronises on that newline.
"""

from __future__ import annotations


class LineSplitter:
    """`feed(chunk)` returns the complete lines it finished, without their `\\n`."""

    def __init__(self, max_line_bytes: int = 256) -> None:
        self.max_line_bytes = max_line_bytes
        self._buffer = bytearray()
        self._skipping = False  # inside an over-long line, waiting for its newline

    def feed(self, chunk: bytes) -> list[bytes]:
        lines: list[bytes] = []
        limit = self.max_line_bytes
        start = 0
        end = len(chunk)
        while start < end:
            newline = chunk.find(b"\n", start)
            stop = end if newline < 0 else newline
            if self._skipping:
                if newline >= 0:
                    self._skipping = False
            else:
                room = limit + 1 - len(self._buffer)
                piece = chunk[start:stop]
                if len(piece) >= room:
                    # over-long: emit its bounded head once, skip the rest of it
                    self._buffer += piece[:room]
                    lines.append(bytes(self._buffer))
                    self._buffer.clear()
                    self._skipping = newline < 0
                elif newline >= 0:
                    if self._buffer:
                        self._buffer += piece
                        lines.append(bytes(self._buffer))
                        self._buffer.clear()
                    else:
                        lines.append(piece)
                else:
                    self._buffer += piece
            if newline < 0:
                break
            start = newline + 1
        return lines

    def pending(self) -> int:
        """Bytes of an unterminated line held back."""
        return len(self._buffer)

    def reset(self) -> bool:
        """Forget any partial line (the port was lost). True when a fragment was thrown away."""
        dropped = bool(self._buffer) or self._skipping
        self._buffer.clear()
        self._skipping = False
        return dropped
