"""A real browser and a real server for the dashboard tests (and the screenshot).

`chromium()` finds Debian's Chromium, installing it with apt-get when it is
missing and we are root; Playwright's own browser download is never used.
`serve(app)` runs uvicorn on a free 127.0.0.1 port in a thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator

import uvicorn

from helpers import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
APT_TIMEOUT = 900


def chromium() -> str | None:
    """The Chromium executable, installed with apt-get if needed and possible; None when there is none."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            print(f"installing the browser: {' '.join(command)}", flush=True)
            try:
                subprocess.run(command, env=env, timeout=APT_TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                print(f"{' '.join(command)} took longer than {APT_TIMEOUT}s; gave up", flush=True)
                break
    return CHROMIUM if os.path.exists(CHROMIUM) else None


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Serve `app` with uvicorn (lifespan included) on a free port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), what="uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
