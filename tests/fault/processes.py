"""Finding real processes to kill, and proving none is left: read from /proc (Linux, as CI is)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    sid: int
    state: str
    args: str


def snapshot() -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        found.append(Proc(int(entry.name), int(fields[1]), int(fields[3]), fields[0], args))
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever adopted it to reap it."""
    return any(p.pid == pid and p.state != "Z" for p in snapshot())


def children(pid: int) -> list[Proc]:
    return [p for p in snapshot() if p.ppid == pid and p.state != "Z"]


def descendants(pid: int) -> list[Proc]:
    every = snapshot()
    found, frontier = [], {pid}
    while frontier:
        level = [p for p in every if p.ppid in frontier and p.state != "Z"]
        found += level
        frontier = {p.pid for p in level}
    return found


def in_sessions(sids: set[int]) -> list[Proc]:
    return [p for p in snapshot() if p.sid in sids and p.state != "Z"]
