"""Who is on the other end of a Unix socket (SO_PEERCRED) and whether they belong to a group."""

from __future__ import annotations

import grp
import os
import pwd
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True, slots=True)
class Peer:
    pid: int
    uid: int
    gid: int

    def groups(self, proc: Path = Path("/proc")) -> frozenset[int] | None:
        """The caller process's real, effective and supplementary gids from /proc/PID/status, or None when
        it cannot be read (it ended, or /proc is mounted hidepid)."""
        try:
            text = (proc / str(self.pid) / "status").read_text()
        except OSError:
            return None
        gids: set[int] = set()
        for line in text.splitlines():
            if line.startswith(("Gid:", "Groups:")):
                gids.update(int(field) for field in line.split(":", 1)[1].split())
        return frozenset(gids)

    def describe(self) -> str:
        return f"uid {self.uid} ({user_name(self.uid)}) pid {self.pid}"


def peer_of(connection: socket.socket) -> Peer:
    pid, uid, gid = _UCRED.unpack(connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return Peer(pid, uid, gid)


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "?"


def group_id(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def in_group(peer: Peer, gid: int) -> bool:
    """The caller's process carries `gid` (what the kernel would check), or, when its /proc entry cannot be
    read, the group database lists the caller's user."""
    gids = peer.groups()
    if gids is not None:
        return gid in gids
    if peer.gid == gid:
        return True
    try:
        return pwd.getpwuid(peer.uid).pw_name in grp.getgrgid(gid).gr_mem
    except KeyError:
        return False


def may_change_state(peer: Peer, gid: int | None) -> bool:
    """root, the daemon's own user, or a member of the socket's group."""
    return peer.uid in (0, os.geteuid()) or (gid is not None and in_group(peer, gid))
