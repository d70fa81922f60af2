"""JupyterHub for a workshop on one machine: every learner gets their own Jupyter server
running the kit in replay (no key, no network), behind one login page.

    make install-test   # or: pip install -e '.[hub]' && npm install --prefix jupyterhub/.proxy configurable-http-proxy
    LLMLAB_HUB_PASSWORD=choose-one jupyterhub -f jupyterhub/jupyterhub_config.py

Settings, all from the environment:
  LLMLAB_HUB_PASSWORD  the shared workshop password (required; DummyAuthenticator, any user name)
  LLMLAB_HUB_PORT      public port on 127.0.0.1 (default: a free port, printed in the log)
  LLMLAB_HUB_STATE     where the hub keeps its database, cookie secret and learners' homes
                       (default: jupyterhub/.state next to this file)
  LLMLAB_HUB_IP        bind address (default 127.0.0.1; put a TLS reverse proxy in front before
                       you open it to a room)
  LLMLAB_HUB_BACKEND   the learners' LLMLAB_BACKEND (default replay; e.g. http://gpu-box:11434/v1
                       for a shared server, see docs/workshop-server.md)

DummyAuthenticator + SimpleLocalProcessSpawner run every learner's server as the OS user that
started the hub: good for a workshop VM you throw away afterwards, not for anything else.
On Kubernetes use Zero to JupyterHub instead (docs/jupyterhub.md)."""

import os
import shutil
import socket
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

HERE = Path(__file__).resolve().parent
KIT = HERE.parent  # the checkout: notebooks/, cassettes/, labs/, quiz/
STATE = Path(os.environ.get("LLMLAB_HUB_STATE", HERE / ".state")).resolve()
STATE.mkdir(parents=True, exist_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


password = os.environ.get("LLMLAB_HUB_PASSWORD")
if not password:
    sys.exit("Set LLMLAB_HUB_PASSWORD to the workshop password before starting the hub.")

# -- network: public proxy port, hub API and proxy API all on loopback, on free ports --------
c.JupyterHub.ip = os.environ.get("LLMLAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("LLMLAB_HUB_PORT") or free_port())
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = free_port()
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{free_port()}"
proxy = HERE / ".proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(proxy) if proxy.exists() else "configurable-http-proxy"]

# -- state -------------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

# -- who may log in ----------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = password
c.Authenticator.allow_all = True  # any name + the shared password; set allowed_users to restrict
c.Authenticator.admin_users = set(filter(None, os.environ.get("LLMLAB_HUB_ADMINS", "").split(",")))

# -- each learner's server ------------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]  # workshop VMs and containers often run as root
c.Spawner.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "LLMLAB_BACKEND": os.environ.get("LLMLAB_HUB_BACKEND", "replay"),
    "LLMLAB_ROOT": str(KIT),  # cassettes and quiz banks come from the kit, read-only
    "MPLBACKEND": "Agg",
}


def copy_the_kit(spawner) -> None:
    """Give each learner their own copy of the notebooks, labs and quiz (edits stay theirs)."""
    home = Path(spawner.home_dir_template.format(username=spawner.user.name))
    home.mkdir(parents=True, exist_ok=True)
    for folder in ("notebooks", "labs", "quiz"):
        if (KIT / folder).is_dir() and not (home / folder).exists():
            shutil.copytree(KIT / folder, home / folder)
    spawner.environment = {**spawner.environment,  # a new dict: the configured one is shared
                           "LLMLAB_HOME": str(home / ".llmlab"),  # progress, config, caches
                           "LLMLAB_PROGRESS": str(home / ".llmlab" / "progress.json")}
    cache = Path.home() / ".llmlab" / "tiktoken-cache"
    if cache.is_dir() and not (home / ".llmlab" / "tiktoken-cache").exists():
        shutil.copytree(cache, home / ".llmlab" / "tiktoken-cache")  # offline token counting


c.Spawner.pre_spawn_hook = copy_the_kit
