#!/usr/bin/env python3
"""Writes a synthetic audit log (the kernel's RAW format, x86_64) of a
spawn flood with long argv, for the memory budget's test and benchmark.

  init(1)───bash(100)─┬─worker(1000..)   WORKERS processes that never end
                      └─job(…)           JOBS fork, exec, exit_group

Every exec's argv is `NAME --blob=<ARG_BYTES of a-z>`: past
MAX_EXECVE_AUDIT_LEN the kernel logs an argument in chunks
(`a1_len=N a1[0]=… a1[1]=…`, one EXECVE record each), as here. One event
per millisecond of audit time, serials from 1.

usage: argv_flood_log.py OUT WORKERS JOBS [ARG_BYTES (102400)]"""

import string
import sys

# The kernel's MAX_EXECVE_AUDIT_LEN: the longest chunk of one argument.
CHUNK = 7500
T0_MS = 1_795_990_000_000
SYSCALL = ("type=SYSCALL msg=audit({s}): arch=c000003e syscall={nr} "
           "success=yes exit={exit} a0={a0} a1=0 a2=0 a3=0 items={items} "
           "ppid={ppid} pid={pid} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
           "egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"{comm}\" "
           "exe=\"{exe}\" key=\"flood\"\n")


class log_writer:
    def __init__(self, out):
        self.out = out
        self.serial = 0

    def stamp(self):
        self.serial += 1
        ms = T0_MS + self.serial
        return f"{ms // 1000}.{ms % 1000:03d}:{self.serial}"

    def fork(self, pid, ppid, child):
        s = self.stamp()
        self.out.write(SYSCALL.format(s=s, nr=56, exit=child, a0="1200011",
                                      items=0, ppid=ppid, pid=pid,
                                      comm="bash", exe="/usr/bin/bash"))
        self.out.write(f"type=EOE msg=audit({s}):\n")

    def execve(self, pid, ppid, name, blob):
        s = self.stamp()
        exe = "/usr/bin/" + name
        self.out.write(SYSCALL.format(s=s, nr=59, exit=0, a0="55d0c0de0000",
                                      items=1, ppid=ppid, pid=pid,
                                      comm=name, exe=exe))
        arg = "--blob=" + blob
        self.out.write(f"type=EXECVE msg=audit({s}): argc=2 a0=\"{name}\" "
                       f"a1_len={len(arg)}\n")
        for i in range(0, len(arg), CHUNK):
            self.out.write(f"type=EXECVE msg=audit({s}): "
                           f"a1[{i // CHUNK}]=\"{arg[i:i + CHUNK]}\"\n")
        self.out.write(f"type=CWD msg=audit({s}): cwd=\"/srv\"\n")
        self.out.write(f"type=PATH msg=audit({s}): item=0 name=\"{exe}\" "
                       "inode=1 dev=fe:00 mode=0100755 ouid=0 ogid=0 "
                       "rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
                       "cap_fver=0 cap_frootid=0\n")
        self.out.write(f"type=EOE msg=audit({s}):\n")

    def exit_group(self, pid, ppid, name):
        s = self.stamp()
        self.out.write(SYSCALL.format(s=s, nr=231, exit=0, a0="0", items=0,
                                      ppid=ppid, pid=pid, comm=name,
                                      exe="/usr/bin/" + name)
                       .replace("success=yes exit=0 ", ""))
        self.out.write(f"type=EOE msg=audit({s}):\n")


def blob(n, seed):
    letters = string.ascii_lowercase
    rot = letters[seed % 26:] + letters[:seed % 26]
    return (rot * (n // 26 + 1))[:n]


def main():
    out, workers, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    arg_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 102400
    with open(out, "w") as f:
        w = log_writer(f)
        pid = 1000
        for _ in range(workers):
            w.fork(100, 1, pid)
            w.execve(pid, 100, "worker", blob(arg_bytes, pid))
            pid += 1
        for _ in range(jobs):
            w.fork(100, 1, pid)
            w.execve(pid, 100, "job", blob(arg_bytes, pid))
            w.exit_group(pid, 100, "job")
            pid += 1


if __name__ == "__main__":
    main()
