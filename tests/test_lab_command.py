"""`llmlab lab`, the README's run command, serves the kit and opens the start
notebook, with JupyterLab's news pop-up switched off for that launch."""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from helpers import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_llmlab_lab_serves_the_start_notebook_without_the_news_popup(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter")}
    env.pop("JUPYTER_CONFIG_PATH", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmlab.cli", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "lab.log").open("wb"))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx2.get(f"{base}/lab?token={token}", timeout=2)
                break
            except httpx2.TransportError:
                time.sleep(0.5)
        assert page is not None and page.status_code == 200, (tmp_path / "lab.log").read_text()[-2000:]
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                      page.text, re.S).group(1))
        assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
        # The server's front door sends a browser to the start notebook.
        door = httpx2.get(f"{base}/?token={token}", timeout=10)
        assert door.status_code in (301, 302) and door.headers["location"].startswith(
            "/lab/tree/notebooks/00_start_here.ipynb"), (door.status_code, door.headers.get("location"))
        contents = httpx2.get(f"{base}/api/contents/notebooks/00_start_here.ipynb?token={token}&content=0", timeout=10)
        assert contents.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
