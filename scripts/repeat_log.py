#!/usr/bin/env python3
"""Makes a long audit log from one capture for the replay benchmark: the
capture N times in a row, each copy's stamps moved past the previous copy's
end (plus one second) and its serials past the previous copy's, so that the
copies read as one longer capture on one host (pids come back as new
lifetimes, as on a busy host).

usage: repeat_log.py CAPTURE N OUT
e.g.   repeat_log.py fork-storm.log 4 large.log   (281,476 records)"""

import re
import sys

STAMP = re.compile(r"msg=audit\((\d+)\.(\d+):(\d+)\)")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        lines = f.readlines()
    copies = int(sys.argv[2])
    found = [m for m in map(STAMP.search, lines) if m]
    if not found:
        sys.exit(f"{sys.argv[1]}: no audit stamps")
    ms = [int(m.group(1)) * 1000 + int(m.group(2)) for m in found]
    serials = [int(m.group(3)) for m in found]
    ms_span = max(ms) - min(ms) + 1000
    serial_span = max(serials) - min(serials) + 1
    with open(sys.argv[3], "w") as out:
        for k in range(copies):
            def restamp(m):
                t = int(m.group(1)) * 1000 + int(m.group(2)) + k * ms_span
                serial = int(m.group(3)) + k * serial_span
                return f"msg=audit({t // 1000}.{t % 1000:03d}:{serial})"
            for line in lines:
                out.write(STAMP.sub(restamp, line, count=1))


if __name__ == "__main__":
    main()
