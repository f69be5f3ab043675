"""Wall-clock jumps for one process, the monotonic clock untouched: an LD_PRELOAD shim whose offset a file sets.

    shift = WallClockShift(workdir)            # compiles the shim once (gcc), offset 0
    subprocess.Popen(cmd, env={**os.environ, **shift.env()})
    shift.jump(3600.0)                         # that process's time.time() is now an hour ahead
    shift.set(0.0)                             # back (a step backwards of an hour)

Why not libfaketime (Debian `faketime`): with `FAKETIME_DONT_FAKE_MONOTONIC=1`, which a wall-clock jump
needs (faking both clocks moves the monotonic one too, so nothing would tell the two apart), its
`clock_nanosleep` wrapper makes Python's `time.sleep` fail with EINVAL (libfaketime 0.9.10, Debian 12), so
the daemon could not run under it. The shim overrides only `clock_gettime(CLOCK_REALTIME*)`,
`gettimeofday` and `time`: what an NTP step or a wrong RTC changes, and nothing else. The process reads
the offset file at most ten times a second (by the monotonic clock), so a jump lands within 0.1 s.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static volatile long long offset_ns;
static volatile long long next_read_ns;

static void read_offset(void) {
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC, &now);
    long long mono = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (mono < next_read_ns) return;
    next_read_ns = mono + 100000000LL;
    const char *path = getenv("SHELF_WALLCLOCK_FILE");
    if (!path) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    offset_ns = strtoll(buf, NULL, 10);
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real_clock_gettime(clock, ts);
    if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        read_offset();
        long long t = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ns;
        ts->tv_sec = t / 1000000000LL;
        ts->tv_nsec = t % 1000000000LL;
    }
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0 && tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    (void)tz;
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
"""


class WallClockShift:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.offset_file = workdir / "wallclock-offset"
        self.library = build_shim(workdir)
        self.offset_s = 0.0
        self.set(0.0)

    def env(self) -> dict[str, str]:
        return {"LD_PRELOAD": str(self.library), "SHELF_WALLCLOCK_FILE": str(self.offset_file)}

    def set(self, offset_s: float) -> None:
        """The wall clock of the shimmed processes is real time + `offset_s` from now on."""
        temporary = self.offset_file.with_name(self.offset_file.name + ".new")
        temporary.write_text(f"{round(offset_s * 1e9)}\n")
        temporary.replace(self.offset_file)  # never a half-written number
        self.offset_s = offset_s

    def jump(self, seconds: float) -> None:
        self.set(self.offset_s + seconds)


def build_shim(workdir: Path) -> Path:
    """Compile the shim into `workdir` (once per source version); RuntimeError naming what is missing."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise RuntimeError("the wall-clock shim needs a C compiler: apt-get install gcc")
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:12]
    library = workdir / f"wallclock-{digest}.so"
    if library.is_file():
        return library
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"wallclock-{digest}.c"
    source.write_text(SOURCE)
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"cannot build the wall-clock shim: {done.stderr.strip()[-500:]}")
    return library
