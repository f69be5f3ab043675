"""The control socket: a Unix socket in the runtime directory through which the technician CLI talks
to the running daemon (docs/control-socket.md). The server answers one JSON object per line with one
JSON object per line; the node hands it named handlers bound to narrow collaborators."""

from edge.control.client import ControlClient, DaemonNotRunning
from edge.control.handlers import Handler, HandlerTable
from edge.control.protocol import DEFAULT_SOCKET, ControlError
from edge.control.server import ControlServer

__all__ = ["DEFAULT_SOCKET", "ControlClient", "ControlError", "ControlServer", "DaemonNotRunning", "Handler",
           "HandlerTable"]
