"""Shared by the browser tests: Debian's Chromium via Playwright, a Voilà server on loopback,
axe-core, screenshots in ``test-artifacts/`` (gitignored; CI keeps them).

In CI (``CI=true``) a missing Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
START_TIMEOUT_S = 90
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        unavailable(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def voila(notebook: Path, ws: Path, runtime: Path, *, rater: str | None = "B01", extra_args=()):
    """Serve ``notebook`` with Voilà on 127.0.0.1 on workspace ``ws`` (as ``rater``), run from
    the repository so its ``voila.json`` (preheated kernels) applies."""
    with _server(["-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1", *extra_args],
                 ws, runtime, rater=rater) as url:
        yield url


@contextmanager
def jupyterlab(ws: Path, runtime: Path, *, rater: str | None = "B01"):
    """JupyterLab on 127.0.0.1 (no token, as root if need be, no news pop-up) on workspace ``ws``."""
    settings = runtime / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    with _server(["-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--allow-root",
                  "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={REPO}"],
                 ws, runtime, rater=rater, extra_env={"JUPYTERLAB_SETTINGS_DIR": str(runtime / "lab-settings")}) as url:
        yield url


@contextmanager
def _server(args, ws: Path, runtime: Path, *, rater: str | None, extra_env=None):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"CALIBRATE_DB", "CALIBRATE_SESSION", "CALIBRATE_CASE", "CALIBRATE_RATER"}}
    env.update(CALIBRATE_WORKSPACE=str(ws), JUPYTER_RUNTIME_DIR=str(runtime), **(extra_env or {}))
    if rater:
        env["CALIBRATE_RATER"] = rater
    runtime.mkdir(parents=True, exist_ok=True)
    log_path = runtime / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, *args, f"--port={port}"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{args[1]} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{args[1]} did not listen within {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def screenshot(page, name: str, *, width: int) -> Path:
    """A full-page screenshot at ``width`` px (the page's scrolling area is inside the Voilà
    shell, so the viewport is made as tall as the content)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.set_viewport_size({"width": width, "height": 1000})
    height = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('.lm-BoxPanel-child, body, #rendered_cells'))"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": width, "height": min(max(int(height) + 40, 800), 12000)})
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, *, impacts=("serious", "critical")) -> list[str]:
    """axe-core's WCAG 2.2 A/AA violations of the given impacts, one readable line each."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    out = []
    for v in result.response["violations"]:
        if v.get("impact") in impacts:
            where = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                              for n in v["nodes"][:4])
            out.append(f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} node(s), e.g. {where}")
    return out


def horizontal_overflow(page) -> list[str]:
    """Elements sticking out to the right of the viewport, and whether the page scrolls sideways."""
    return page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > w) out.push('document scrolls sideways: ' + document.documentElement.scrollWidth);
          for (const e of document.querySelectorAll('.calibrate-app *, .calibrate-panel *')) {
            const r = e.getBoundingClientRect();
            if (r.width && r.right > w + 1 && e.offsetParent !== null) out.push(e.tagName + '.' + e.className + ' ends at ' + Math.round(r.right));
            if (out.length > 10) break;
          }
          for (const e of document.querySelectorAll('.lm-BoxPanel-child')) if (e.scrollWidth > e.clientWidth + 1) out.push('shell scrolls sideways');
          return out;
        }"""
    )


def cut_labels(page) -> list[str]:
    """Visible buttons and labels whose text does not fit (cut off or hidden by overflow)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.calibrate-app button, .calibrate-app label, .calibrate-app h2, .calibrate-app h3, .calibrate-app h4'))
          .filter(e => e.offsetParent !== null && (e.scrollWidth > e.clientWidth + 1))
          .map(e => e.textContent.trim().slice(0, 60))"""
    )
