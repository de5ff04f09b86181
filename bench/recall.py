#!/usr/bin/env python3
"""Recall of one crawler in bench/run.sh: compares the URLs nginx logged during its run (lines
'ADDR:PORT STATUS METHOD TARGET HTTP/x', robots.txt excluded) with an expected URL list.
Usage: recall.py EXPECTED_FILE LOG_SEGMENT_FILE
Prints: distinct URLs fetched, expected URLs fetched / expected, extra URLs, repeated requests."""
import sys
from urllib.parse import unquote, urlsplit


def key(url):
    p = urlsplit(url)
    return (p.hostname or "", p.port or 80, unquote(p.path or "/"), unquote(p.query))


expected = {key(l.strip()) for l in open(sys.argv[1]) if l.strip()}
fetched, requests = set(), 0
for line in open(sys.argv[2], errors="replace"):
    parts = line.split()
    if len(parts) < 4 or parts[3].split("?")[0] == "/robots.txt":
        continue
    requests += 1
    fetched.add(key(f"http://{parts[0]}{parts[3]}"))
hit = len(expected & fetched)
print(f"{len(fetched)} {hit} {len(expected)} {len(fetched - expected)} {requests - len(fetched)}")
