"""JupyterHub for a workshop (jupyterhub/jupyterhub_config.py): two learners log in through the
login form, get their own servers, and each runs notebook 01 in replay inside their server's
kernel (Jupyter server REST API + kernel websocket). Slow (about a minute): marked `hub`.

    python -m pytest tests/test_jupyterhub.py -m hub -p no:xdist
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from llmlab.config import project_root

from helpers import free_port

pytestmark = pytest.mark.hub

ROOT = project_root()
CONFIG = ROOT / "jupyterhub" / "jupyterhub_config.py"
PROXY = ROOT / "jupyterhub" / ".proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = "workshop-" + uuid.uuid4().hex[:8]
USERS = ["alice", "bob"]


def _missing() -> str | None:
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed (pip install -e '.[hub]')"
    if shutil.which("node") is None:
        return "node is missing (configurable-http-proxy needs Node.js)"
    if not PROXY.exists() and shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is missing (npm install --prefix jupyterhub/.proxy configurable-http-proxy)"
    return None



@pytest.fixture(scope="module")
def hub():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    import httpx2

    # not pytest's tmp_path: other pytest runs on the machine prune those while the hub runs
    state = Path(tempfile.mkdtemp(prefix="llmlab-hub-"))
    port = free_port()
    env = {**os.environ, "LLMLAB_HUB_PASSWORD": PASSWORD, "LLMLAB_HUB_PORT": str(port),
           "LLMLAB_HUB_STATE": str(state)}
    env.pop("LLMLAB_BACKEND", None)  # the config must put learners in replay by itself
    log = (state / "hub.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx2.get(f"{url}/hub/api/", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the hub did not start:\n" + (state / "hub.log").read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        yield url, state
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the hub stops its proxy; its session holds both
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def _xsrf(client, page: str) -> str:
    match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page)
    return match.group(1) if match else client.cookies.get("_xsrf", path="/hub/")


def login_and_start(url: str, name: str):
    """Log in through the form (cookies + _xsrf), ask for the server, return (client, token)."""
    import httpx2

    client = httpx2.Client(base_url=url, follow_redirects=True, timeout=30)
    page = client.get("/hub/login").text
    wrong = client.post("/hub/login", data={"username": name, "password": "wrong", "_xsrf": _xsrf(client, page)})
    assert "Invalid username or password" in wrong.text
    page = client.get("/hub/login").text
    r = client.post("/hub/login", data={"username": name, "password": PASSWORD, "_xsrf": _xsrf(client, page)},
                    follow_redirects=False)
    assert r.status_code == 302, r.text[:500]
    xsrf = client.cookies.get("_xsrf", path="/hub/") or _xsrf(client, client.get("/hub/home").text)
    headers = {"X-XSRFToken": xsrf}
    me = client.get("/hub/api/user", headers=headers).json()
    assert me["name"] == name
    # an API token for this user, made with the login cookie (no admin token involved)
    token = client.post(f"/hub/api/users/{name}/tokens", headers=headers,
                        json={"note": "test", "expires_in": 600}).json()["token"]
    auth = {"Authorization": f"token {token}"}
    r = client.post(f"/hub/api/users/{name}/server", headers=auth)
    assert r.status_code in (201, 202), r.text
    return client, token


def wait_until_ready(client, name: str, token: str) -> None:
    auth = {"Authorization": f"token {token}"}
    deadline = time.monotonic() + 120
    while True:
        model = client.get(f"/hub/api/users/{name}", headers=auth).json()
        server = model.get("servers", {}).get("")
        if server and server.get("ready"):
            return
        assert server or model.get("pending"), f"{name}'s server failed to start (see the hub log)"
        assert time.monotonic() < deadline, f"{name}'s server did not become ready"
        time.sleep(0.25)


async def run_notebook_in_kernel(url: str, name: str, token: str, cells: list[str]) -> list[dict]:
    """Start a kernel in NAME's server and execute CELLS there; return each cell's outputs."""
    import httpx2
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    auth = {"Authorization": f"token {token}"}
    base = f"{url}/user/{name}"
    async with httpx2.AsyncClient(timeout=60) as http:
        kernel = (await http.post(f"{base}/api/kernels", headers=auth, json={"name": "python3"})).json()
        ws_url = base.replace("http://", "ws://") + f"/api/kernels/{kernel['id']}/channels"
        ws = await websocket_connect(HTTPRequest(ws_url, headers=auth))
        session = uuid.uuid4().hex
        results = []
        try:
            for code in cells:
                msg_id = uuid.uuid4().hex
                ws.write_message(json.dumps({
                    "header": {"msg_id": msg_id, "username": name, "session": session, "msg_type": "execute_request",
                               "version": "5.3", "date": ""},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                                "allow_stdin": False, "stop_on_error": True}}))
                outputs, status = [], None
                idle = reply = False
                while not (idle and reply):
                    raw = await asyncio.wait_for(ws.read_message(), timeout=120)
                    assert raw is not None, "kernel websocket closed"
                    msg = json.loads(raw)
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind = msg["msg_type"]
                    if kind in ("stream", "execute_result", "display_data", "error"):
                        outputs.append({"type": kind, **msg["content"]})
                    elif kind == "execute_reply":
                        status, reply = msg["content"]["status"], True
                    elif kind == "status" and msg["content"]["execution_state"] == "idle":
                        idle = True
                results.append({"status": status, "outputs": outputs})
                assert status == "ok", f"{name}: cell failed:\n{code[:300]}\n{outputs}"
        finally:
            ws.close()
            await http.delete(f"{base}/api/kernels/{kernel['id']}", headers=auth)
    return results


def _text(result: dict) -> str:
    return "".join(o.get("text", "") or json.dumps(o.get("data", {}).get("text/plain", ""))
                   for o in result["outputs"])


def test_two_learners_log_in_and_run_notebook_01_in_replay(hub):
    import nbformat

    url, state = hub
    nb = nbformat.read(ROOT / "notebooks" / "01_chat_completions.ipynb", as_version=4)
    cells = ["import os; print(os.environ['LLMLAB_BACKEND']); os.chdir(os.path.expanduser('~/notebooks'))"]
    cells += [c.source for c in nb.cells if c.cell_type == "code" and "llmlab.quiz.show(" not in c.source]
    sessions = [login_and_start(url, name) for name in USERS]  # both servers spawn at once, as in a class
    for name, (client, token) in zip(USERS, sessions, strict=True):
        wait_until_ready(client, name, token)

    async def both():
        return await asyncio.gather(*(run_notebook_in_kernel(url, name, token, cells)
                                      for name, (_, token) in zip(USERS, sessions, strict=True)))

    for name, results in zip(USERS, asyncio.run(both()), strict=True):
        assert _text(results[0]).strip() == "replay"
        assert "replay" in _text(results[1]).lower()  # llmlab.start's provenance line
        # the recorded answer, byte for byte, as the notebook saved it
        expected = next(c for c in nb.cells if c.cell_type == "code" and c.source == cells[2])
        saved = "".join(o.get("text", "") for o in expected.outputs if o.output_type == "stream")
        assert _text(results[2]) == saved
        assert (state / "home" / name / "notebooks" / "01_chat_completions.ipynb").exists()
    for client, _ in sessions:
        client.close()
