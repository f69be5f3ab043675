"""The demo: a simulated shelf, the real daemon and a private broker, seen from the hub's side."""
