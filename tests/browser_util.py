"""Shared helpers of the browser tests (test_site.py, test_browser.py): Debian's chromium driven by pip's playwright
(never `playwright install`), skipping with a clear reason when either is missing, and process cleanup by PID."""
import os, shutil, signal, socket, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("OPTBENCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# flags that work headless in containers without a GPU and keep chromium from calling home
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check"]

def require_browser():
    "Skip (with the reason) unless Debian's chromium and the playwright package are both present."
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found ({CHROMIUM}): install Debian's package with "
                    "'apt-get install chromium' (.ci/run does this); browser tests never download a browser")
    try: import playwright.sync_api  # noqa: F401
    except ImportError: pytest.skip("playwright is not installed: pip install -e '.[dev]'")

def launch(p):
    "Chromium from Debian, headless."
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

class Requests:
    "Route every request of a browser context: `allowed` prefixes go through, anything else is aborted and counted."
    def __init__(self, context, allowed):
        self.allowed, self.local, self.external, self.failed = tuple(allowed), [], [], []
        context.route("**/*", self._route)
        context.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    def _route(self, route):
        u = route.request.url
        if u.startswith(self.allowed) or u.startswith(("data:", "blob:", "about:")):
            self.local.append(u); return route.continue_()
        self.external.append(u); return route.abort()
    def summary(self) -> dict:
        return {"local": len(self.local), "external_blocked": len(self.external), "failed_local": len(self.failed),
                "external_urls": sorted(set(self.external))[:20], "failed_urls": self.failed[:20]}

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def kill_tree(pid:int, timeout:float=10.0):
    "Stop process `pid` and every process it started (kernels included), each by its PID: TERM, wait, then KILL."
    import psutil
    try: parent = psutil.Process(pid)
    except psutil.NoSuchProcess: return []
    procs = [parent] + parent.children(recursive=True)
    pids = [p.pid for p in procs]
    for p in procs:
        try: p.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess: pass
    gone, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        try: p.kill()
        except psutil.NoSuchProcess: pass
    psutil.wait_procs(alive, timeout=timeout)
    return pids

def wait_until(cond, timeout:float, what:str, interval:float=0.2):
    "Poll `cond()` until it is truthy (returns it) or fail after `timeout` seconds naming `what`."
    t0, last = time.monotonic(), None
    while time.monotonic() - t0 < timeout:
        try:
            v = cond()
            if v: return v
        except Exception as e: last = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last!r})" if last else ""))
