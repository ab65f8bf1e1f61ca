#!/usr/bin/env python3
# metrics_http.py - an HTTP request for the metrics tests (issue #16):
#   metrics_http.py URL [METHOD]   prints the status, the Content-Type and
#   the body; exit 1 when there is no answer at all.
#   metrics_http.py --listen PORT  listens on 127.0.0.1:PORT until killed
#   (the port-in-use test), printing "listening" once it does.
import socket
import sys
import time
import urllib.error
import urllib.request

if sys.argv[1] == "--listen":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", int(sys.argv[2])))
    s.listen(1)
    print("listening", flush=True)
    while True:
        time.sleep(60)

url = sys.argv[1]
method = sys.argv[2] if len(sys.argv) > 2 else "GET"
req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status)
        print(r.headers.get("Content-Type"))
        sys.stdout.write(r.read().decode("utf-8"))
except urllib.error.HTTPError as e:
    print(e.code)
    print(e.headers.get("Content-Type"))
except Exception as e:  # refused, reset, timed out: no answer
    print("no answer:", e, file=sys.stderr)
    sys.exit(1)
