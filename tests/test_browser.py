"""A real browser on JupyterLab: headless Chromium (Debian's) driven by Playwright
clicks through a topic quiz and the mock interview, and reads what the page shows."""

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import nbformat
import pytest

from helpers import free_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"



@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    pytest.importorskip("playwright", reason="pip install playwright (make test does)")
    home = tmp_path_factory.mktemp("lab-home")
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    # Render every cell: with windowing, off-screen outputs are not laid out and cannot be clicked.
    notebook_settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)
    (notebook_settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    # JupyterLab saves what it runs: work on a copy so the committed notebooks stay as they are.
    site = home / "site"
    for folder in ("notebooks", "quiz", "cassettes"):
        shutil.copytree(ROOT / folder, site / folder)
    # Without committed outputs nothing on the page can be matched before this run made it.
    for path in [*site.glob("notebooks/*.ipynb"), *site.glob("quiz/*.ipynb")]:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, path)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "LLMLAB_HOME": str(home), "LLMLAB_ROOT": str(site), "LLMLAB_BACKEND": "replay",
           "LLMLAB_PACE": "0", "LLMLAB_STRICT_REPLAY": "0", "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={site}", "--ServerApp.open_browser=False",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env=env, stdout=subprocess.DEVNULL, stderr=(home / "jupyter.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/api/status?token={token}", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("JupyterLab did not start: " + (home / "jupyter.log").read_text()[-2000:])
    yield base, token, home, site
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(jupyter):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _kernel_idle(page) -> bool:
    return page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0


def _wait_until(page, what: str, condition, timeout: float) -> None:
    """Poll what the page really shows (kernel state, prompts) instead of racing a fixed selector."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # JupyterLab sometimes asks which kernel to use even when the notebook names one.
        if page.locator(".jp-Dialog .jp-mod-accept").count():
            page.locator(".jp-Dialog .jp-mod-accept").first.click()
        if condition():
            return
        time.sleep(0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    slug = re.sub(r"\W+", "_", what)
    page.screenshot(path=str(ARTIFACTS / f"timeout_{slug}.png"), full_page=True)
    raise AssertionError(f"JupyterLab: {what} did not happen within {timeout:.0f} s")


# Every code cell's prompt holds a number once it has run; "*" while queued or running.
_ALL_RAN = r"""() => {
  const prompts = [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')];
  return prompts.length > 0 && prompts.every(p => /\[\d+\]/.test(p.textContent));
}"""


_ANY_STARTED = r"""() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
  .some(p => /\[(\d+|\*)\]/.test(p.textContent))"""


def _kernel_settled(base: str, token: str, notebook: str) -> bool:
    """One session for the notebook, one kernel on the server, and it is idle. On a cold start
    JupyterLab may start a kernel, replace it, and only then connect: a Run All sent to the
    first one is lost."""
    sessions = httpx2.get(f"{base}/api/sessions?token={token}", timeout=5).json()
    kernels = httpx2.get(f"{base}/api/kernels?token={token}", timeout=5).json()
    mine = [s for s in sessions if s["path"] == notebook]
    return len(mine) == 1 and len(kernels) == len(sessions) and mine[0]["kernel"]["execution_state"] == "idle"


def _open_and_run_all(browser, jupyter, notebook: str):
    base, token, *_ = jupyter
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # ?reset: a fresh workspace, so no tab from an earlier test is restored beside this notebook.
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=180_000)
    settled = []

    def steady() -> bool:  # settled on three checks in a row, 0.5 s apart
        settled.append(_kernel_settled(base, token, notebook) and _kernel_idle(page))
        return len(settled) >= 3 and all(settled[-3:])

    _wait_until(page, "kernel ready", steady, 180)
    for _attempt in range(3):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        try:
            _wait_until(page, "first cell started", lambda: page.evaluate(_ANY_STARTED), 20)
            break
        except AssertionError:
            continue  # the click reached a kernel that was going away: send Run All again
    _wait_until(page, "every cell run", lambda: page.evaluate(_ALL_RAN) and _kernel_idle(page), 300)
    return page


def test_topic_quiz_by_clicking(browser, jupyter):
    page = _open_and_run_all(browser, jupyter, "notebooks/01_chat_completions.ipynb")
    quiz = page.locator(".jp-OutputArea-output", has_text="Quiz 01:").last
    quiz.wait_for(timeout=60_000)
    quiz.scroll_into_view_if_needed()
    # Q1's right answer is "A model name and a list of messages"; Q3's is "assistant".
    q1 = page.locator(".jp-OutputArea .widget-radio-box").nth(0)
    try:
        q1.wait_for(timeout=120_000)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "topic_quiz_failure.png"), full_page=True)
        raise
    q1.locator("label", has_text="A model name and a list of messages").click()
    page.locator(".jp-OutputArea button", has_text="Check").nth(0).click()
    page.wait_for_selector(".jp-OutputArea .widget-html:has-text('✔')", timeout=40_000)
    q3 = page.locator(".jp-OutputArea .widget-radio-box").nth(1)
    q3.locator("label", has_text="system").first.click()
    page.locator(".jp-OutputArea button", has_text="Check").nth(2).click()
    page.wait_for_selector(".jp-OutputArea .widget-html:has-text('✘')", timeout=40_000)
    # The feedback and the score line are two widgets updated one after the other: wait for the score.
    try:
        page.wait_for_selector(".jp-OutputArea .widget-html:has-text('2 of 7 answered')", timeout=20_000)
    finally:
        score = page.locator(".jp-OutputArea .widget-html", has_text="Score:").last.inner_text()
    assert re.search(r"Score: 1 / 7 \(2 of 7 answered\)", score), score
    # The first answer counts: Q3's Check is now disabled, and forcing the right answer through changes nothing.
    check3 = page.locator(".jp-OutputArea button", has_text="Check").nth(2)
    assert check3.is_disabled(), "Check stays active after the first answer"
    q3.locator("label", has_text="assistant").click(force=True)
    check3.click(force=True)
    page.wait_for_timeout(1500)
    score = page.locator(".jp-OutputArea .widget-html", has_text="Score:").last.inner_text()
    assert re.search(r"Score: 1 / 7 \(2 of 7 answered\)", score), f"a second answer changed the score: {score}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "topic_quiz.png"), full_page=False)
    page.close()
    progress = (jupyter[2] / "progress.json").read_text()
    assert '"01-endpoint-shape"' in progress and '"01-roles"' in progress


def test_mock_interview_by_clicking(browser, jupyter):
    page = _open_and_run_all(browser, jupyter, "quiz/mock_interview.ipynb")
    start = page.locator(".jp-OutputArea button", has_text="Start interview")
    try:
        start.wait_for(timeout=180_000)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "mock_interview_failure.png"), full_page=True)
        raise
    start.scroll_into_view_if_needed()
    start.click()
    page.wait_for_selector(".jp-OutputArea .widget-html:has-text('left · question 1 of 10')", timeout=40_000)
    answered = 0
    for i in range(10):
        radios = page.locator(".jp-OutputArea .widget-radio-box label")
        if radios.count():
            radios.first.click()
            page.locator(".jp-OutputArea button", has_text="Check").first.click()
            page.wait_for_selector(".jp-OutputArea .widget-html:has-text('%')", timeout=40_000)
            answered += 1
        label = "Finish" if i == 9 else "Next"
        page.locator(".jp-OutputArea button", has_text=label).first.click()
        if i < 9:
            page.wait_for_selector(f".jp-OutputArea .widget-html:has-text('question {i + 2} of 10')", timeout=40_000)
    page.wait_for_selector(".jp-OutputArea .widget-html:has-text('Interview over')", timeout=40_000)
    summary = page.locator(".jp-OutputArea .widget-html", has_text="Interview over").inner_text()
    assert re.search(rf"Score [0-9.]+ / 10 \({answered} answered\)", summary), summary
    page.wait_for_selector(".jp-OutputArea img", timeout=40_000)  # the score-by-topic chart
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mock_interview.png"), full_page=True)
    page.close()
