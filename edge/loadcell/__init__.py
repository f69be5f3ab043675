"""The load-cell path: serial framing (pure), the port reader (I/O), captures."""
