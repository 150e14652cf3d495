#!/usr/bin/env python3
"""Makes a two-host audit log with colliding pids and serials from one
real capture: the capture is cut in two at the event boundary nearest its
middle, the second half's stamps and serials are moved to start where the
first half's start, the halves get `node=alpha ` and `node=beta ` prefixes
and are merged by time (each keeps its own order).

usage: two_host_log.py CAPTURE OUT_PREFIX
writes OUT_PREFIX.log (merged), OUT_PREFIX-alpha.log and OUT_PREFIX-beta.log
(each half alone, without node=, with the stamps it has in the merge)."""

import re
import sys

STAMP = re.compile(r"msg=audit\((\d+)\.(\d+):(\d+)\)")


def stamp(line):
    m = STAMP.search(line)
    return (int(m.group(1)) * 1000 + int(m.group(2)), int(m.group(3))) if m else None


def restamp(line, ms_shift, serial_shift):
    def repl(m):
        ms = int(m.group(1)) * 1000 + int(m.group(2)) + ms_shift
        return "msg=audit(%d.%03d:%d)" % (ms // 1000, ms % 1000,
                                          int(m.group(3)) + serial_shift)
    return STAMP.sub(repl, line, count=1)


def main():
    capture, prefix = sys.argv[1], sys.argv[2]
    lines = [l for l in open(capture, encoding="utf-8", errors="surrogateescape")
             .read().split("\n") if stamp(l)]
    # The cut goes after an EOE nearest the middle, so no event is split.
    eoe = [i for i, l in enumerate(lines) if l.startswith("type=EOE ")]
    cut = min(eoe, key=lambda i: abs(i - len(lines) // 2)) + 1
    alpha, beta = lines[:cut], lines[cut:]
    (a_ms, a_serial), (b_ms, b_serial) = stamp(alpha[0]), stamp(beta[0])
    beta = [restamp(l, a_ms - b_ms, a_serial - b_serial) for l in beta]
    tagged = [(stamp(l)[0], 0, i, "node=alpha " + l) for i, l in enumerate(alpha)]
    tagged += [(stamp(l)[0], 1, i, "node=beta " + l) for i, l in enumerate(beta)]
    # By time; within one millisecond each host's lines stay in order.
    tagged.sort()
    for name, part in (("", [t[3] for t in tagged]), ("-alpha", alpha),
                       ("-beta", beta)):
        with open(prefix + name + ".log", "w", encoding="utf-8",
                  errors="surrogateescape") as out:
            out.write("\n".join(part) + "\n")


if __name__ == "__main__":
    main()
