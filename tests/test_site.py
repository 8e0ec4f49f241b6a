"""The offline documentation site (tools/render_docs.py): every notebook has a page with the sidebar, every link inside
the site resolves, nothing refers to another host (CDNs included), and in Chromium with every non-local request
aborted, each page loads (math typeset by the local MathJax) and the explainer page's plotly slider changes the figure.

The site is built once per test session (shared between pytest-xdist workers through a lock) with the first-order
notebook executed, so its page carries the kernel-free explainer; the other notebooks are rendered without execution to
keep the test fast (`python tools/render_docs.py --out _docs` executes them all). Artifacts: tests/artifacts/."""
import fcntl, functools, json, os, re, subprocess, sys, threading, time
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_util import ARTIFACTS, ROOT, Requests, kill_tree, launch, require_browser  # noqa: E402

pytestmark = pytest.mark.browser
sys.path.insert(0, str(ROOT / "tools"))
import render_docs  # noqa: E402

EXPLAINER_NB = "10_first_order"          # executed in this build: its page has the kernel-free explainer
EXPLAINER_PAGE = "first_order.html"
NOTEBOOKS = render_docs.notebooks(ROOT / "nbs")

@pytest.fixture(scope="session")
def site(tmp_path_factory):
    "Build the site once for the whole session (all xdist workers share it)."
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")     # set by pytest-xdist, the same in all workers of one run
    shared = tmp_path_factory.getbasetemp().parent / f"site-{uid}" if uid else tmp_path_factory.getbasetemp() / "site"
    if os.environ.get("OPTBENCH_SITE_CACHE"):          # developers: keep the built site between runs (delete to rebuild)
        shared = Path(os.environ["OPTBENCH_SITE_CACHE"]).resolve()
    shared.mkdir(parents=True, exist_ok=True)
    out, done = shared / "optbench_site", shared / "optbench_site.json"
    with open(shared / "optbench_site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                t0 = time.perf_counter()
                proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "render_docs.py"), "--root", str(ROOT),
                                         "--out", str(out), "--execute", EXPLAINER_NB, "--summary", str(shared / "summary.json")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
                try: stdout, stderr = proc.communicate(timeout=1200)
                finally: kill_tree(proc.pid)   # on a timeout or an interrupt: the build, its workers and kernels, by PID
                assert proc.returncode == 0, f"render_docs failed:\n{stdout[-3000:]}\n{stderr[-6000:]}"
                s = json.loads((shared / "summary.json").read_text())
                s["wall_seconds"] = time.perf_counter() - t0
                s["log"] = stdout
                done.write_text(json.dumps(s))
        finally: fcntl.flock(lock, fcntl.LOCK_UN)
    return out, json.loads(done.read_text())

# ------------------------------------------------------------------------------------------------------ static checks
class _Refs(HTMLParser):
    "Collects (tag, attribute, url) of every reference, ids, and the text of inline scripts and styles."
    LOADS = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
             ("audio", "src"), ("embed", "src"), ("object", "data"), ("track", "src"), ("input", "src"), ("image", "href")}
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs, self.ids, self.inline, self._in = [], set(), [], None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if a.get("name") and tag == "a": self.ids.add(a["name"])
        for k in ("href", "src", "data", "xlink:href"):
            if a.get(k) is not None: self.refs.append((tag, k, a[k]))
        if a.get("style"): self.inline.append(("style-attr", a["style"]))
        if tag in ("script", "style") and not a.get("src"): self._in = tag
    def handle_endtag(self, tag):
        if tag == self._in: self._in = None
    def handle_data(self, data):
        if self._in: self.inline.append((self._in, data))

def _parse(path:Path) -> _Refs:
    p = _Refs(); p.feed(path.read_text(encoding="utf-8")); return p

def _pages(out:Path): return sorted(out.rglob("*.html"))

def test_every_notebook_has_a_page(site):
    out, summary = site
    assert NOTEBOOKS, "no notebooks found"
    pages = {render_docs.page_of(nb).as_posix() for nb in NOTEBOOKS}
    missing = [p for p in sorted(pages) if not (out / p).exists()]
    assert not missing, f"notebooks without a page: {missing}"
    assert set(summary["pages"]) == pages
    for p in pages:   # every page has the sidebar with a link to every page
        doc = (out / p).read_text(encoding="utf-8")
        nav = re.search(r"<nav[^>]*id=[\"']docs-sidebar[\"'][^>]*>.*?</nav>", doc, re.S)
        assert nav, f"{p} has no sidebar"
        root = "../" * p.count("/")
        listed = {h[len(root):] for h in re.findall(r"href=[\"']([^\"']+)[\"']", nav.group(0))}
        assert pages <= listed, f"{p}: the sidebar lacks {sorted(pages - listed)}"
        cur = re.findall(r"<a[^>]*aria-current=[\"']page[\"'][^>]*>", nav.group(0))
        assert len(cur) == 1 and f"{root}{p}" in cur[0], f"{p}: the sidebar does not mark the current page: {cur}"
    for vendor in ("plotly.min.js", "mathjax/MathJax.js", "site.css"):
        assert (out / vendor).exists(), f"the site lacks {vendor}"

def test_explainer_page_has_kernel_free_figure(site):
    out, summary = site
    assert summary["figures"][EXPLAINER_PAGE] >= 1, summary["figures"]
    doc = (out / EXPLAINER_PAGE).read_text(encoding="utf-8")
    assert doc.count('<script src="plotly.min.js"></script>') == 1          # plotly.js once, from the site
    assert '"sliders"' in doc and "Plotly.newPlot" in doc
    assert "application/vnd.jupyter.widget" not in doc                    # no widget state or widget manager
    assert "Live widget" in doc                                           # the explore(...) cell says why it is static

def _has_anchor(ids, frag): return frag in ids or unquote(frag) in ids   # as browsers match fragments

def test_links_resolve(site):
    out, _ = site
    bad, ids = [], {}
    def ids_of(page):
        if page not in ids: ids[page] = _parse(page).ids
        return ids[page]
    for page in _pages(out):
        for tag, attr, url in _parse(page).refs:
            sp = urlsplit(url)
            if url.startswith("#"):
                if len(url) > 1 and not _has_anchor(ids_of(page), url[1:]): bad.append(f"{page.relative_to(out)}: {url} (no such anchor)")
                continue
            if sp.scheme or sp.netloc: continue   # another host or data: (test_no_external_references checks loads)
            target = (page.parent / unquote(sp.path)).resolve()
            if not target.exists() or not target.is_relative_to(out.resolve()):
                bad.append(f"{page.relative_to(out)}: <{tag} {attr}={url!r}> -> missing {target}"); continue
            if sp.fragment and target.suffix == ".html" and not _has_anchor(ids_of(target), sp.fragment):
                bad.append(f"{page.relative_to(out)}: {url} (no anchor #{sp.fragment} in {target.name})")
    assert not bad, "broken links:\n" + "\n".join(bad[:40])

_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*""", re.I)
_INERT = re.compile(r"^https?://www\.w3\.org/")   # XML namespace names, never fetched

def test_no_external_references(site):
    "Nothing in the HTML loads from another host: resource tags, inline scripts and styles, the site's CSS."
    out, _ = site
    bad = []
    for page in _pages(out):
        p = _parse(page)
        for tag, attr, url in p.refs:
            if (tag, attr) in _Refs.LOADS and (urlsplit(url).scheme in ("http", "https") or url.startswith("//")):
                bad.append(f"{page.relative_to(out)}: <{tag} {attr}={url}>")
        for kind, text in p.inline:
            if kind != "script": text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)   # CSS comments cite sources
            for u in _URL.findall(text):
                if not _INERT.match(u): bad.append(f"{page.relative_to(out)}: {u} in inline {kind}")
    for css in out.rglob("*.css"):
        for u in re.findall(r"(?:url\(|@import)\s*['\"]?((?:https?:)?//[^'\")\s]+)", css.read_text()):
            bad.append(f"{css.relative_to(out)}: {u}")
    assert not bad, "external references:\n" + "\n".join(bad[:40])
    # The JavaScript files are the packages' own, copied unchanged (their URL strings, e.g. plotly's map tile defaults,
    # are inert: nothing on these pages uses them, which the browser test below checks with the network blocked).
    import plotly, jupyter_server_mathjax
    assert (out / "plotly.min.js").read_bytes() == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    mj = Path(jupyter_server_mathjax.__file__).parent / "static"
    for f in (mj / "MathJax.js", mj / "config" / "TeX-AMS-MML_HTMLorMML-full.js"):
        assert (out / "mathjax" / f.relative_to(mj)).read_bytes() == f.read_bytes()

# ----------------------------------------------------------------------------------------------------- in a browser
@pytest.fixture(scope="module")
def served(site):
    "The site over HTTP on 127.0.0.1 (a thread of this process, shut down afterwards)."
    out, _ = site
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    try: yield f"http://127.0.0.1:{srv.server_port}/"
    finally: srv.shutdown(); srv.server_close(); th.join(10)

@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = launch(p)
        try: yield b
        finally: b.close()

_MATHJAX_BLANK = "Access to font at 'about:blank'"   # MathJax 2 probes web fonts with an about:blank font: not a request

def _open(browser, base, page_name, reqs_list, errors):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    reqs = Requests(ctx, [base])
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(f"{page_name}: {m.text[:300]}") if m.type == "error"
            and _MATHJAX_BLANK not in m.text and "net::ERR_FAILED" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(f"{page_name}: {e}"))
    page.goto(base + page_name, wait_until="load", timeout=60000)
    page.wait_for_function("() => window.MathJax && MathJax.isReady", timeout=60000)
    page.evaluate("() => new Promise(r => MathJax.Hub.Queue(r))")
    reqs_list.append((page_name, reqs))
    return ctx, page, reqs

PAGES = sorted(render_docs.page_of(nb).as_posix() for nb in NOTEBOOKS)

@pytest.mark.parametrize("page_name", PAGES)
def test_page_offline_in_chromium(site, served, browser, page_name):
    "Each page loads with the network blocked: no request leaves 127.0.0.1, no local 404, math typeset, no JS error."
    rows, errors = [], []
    ctx, page, reqs = _open(browser, served, page_name, rows, errors)
    try:
        math = page.evaluate("() => document.querySelectorAll('.MathJax, .MathJax_Display').length")
        merr = page.evaluate("() => document.querySelectorAll('.MathJax_Error, .MathJax .merror').length")
    finally: ctx.close()
    report = {**reqs.summary(), "math": math, "math_errors": merr}
    (ARTIFACTS / "site_requests").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "site_requests" / (page_name.replace("/", "__") + ".json")).write_text(json.dumps(report, indent=1))
    print(f"\n{page_name}: {report}")
    assert not reqs.external, f"{page_name} asked for other hosts: {reqs.summary()['external_urls']}"
    assert not reqs.failed, f"{page_name}: local requests failed: {reqs.failed}"
    assert not errors, "errors in the browser console:\n" + "\n".join(errors[:20])
    assert merr == 0, f"{page_name}: MathJax reported {merr} TeX errors"
    md = " ".join(re.findall(r'data-mime-type="text/markdown">(.*?)</div>', (site[0] / page_name).read_text(encoding="utf-8"), re.S))
    if re.search(r"\$[^$\s<][^$<]*\$", md): assert math > 0, f"{page_name} has TeX but MathJax typeset nothing"

_SIG = """gd => JSON.stringify(gd.data.filter(t => String(t.meta || '').startsWith('path:'))
                                   .map(t => [t.meta, Array.from(t.x || []), Array.from(t.y || [])]))"""

def test_explainer_slider_in_chromium(site, served, browser):
    "The plotly slider of the kernel-free explainer switches the figure to another precomputed step."
    rows, errors = [], []
    ctx, page, reqs = _open(browser, served, EXPLAINER_PAGE, rows, errors)
    try:
        page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                               ".some(g => g.layout && g.layout.sliders && g.layout.sliders.length && g._fullLayout)", timeout=60000)
        page.evaluate("() => { window.__gd = Array.from(document.querySelectorAll('.js-plotly-plot'))"
                      ".find(g => g.layout.sliders && g.layout.sliders.length); }")
        gd = page.locator(".js-plotly-plot").filter(has=page.locator(".slider-container")).first
        gd.scroll_into_view_if_needed()
        n_steps, active0 = page.evaluate("() => [__gd.layout.sliders[0].steps.length, __gd._fullLayout.sliders[0].active]")
        assert n_steps >= 2
        before = page.evaluate(f"() => ({_SIG})(__gd)")
        label0 = page.evaluate("() => Array.from(__gd.querySelectorAll('.slider-container text.slider-label')).map(t => t.textContent).find(t => t.includes(' = '))")
        ARTIFACTS.mkdir(exist_ok=True)
        gd.screenshot(path=str(ARTIFACTS / "site_explainer_before.png"))
        rail = gd.locator(".slider-rail-touch-rect").first
        bb = rail.bounding_box()
        target = 0 if active0 == n_steps - 1 else n_steps - 1          # jump to an end of the rail
        x = 8 if target == 0 else bb["width"] - 8
        rail.click(position={"x": x, "y": bb["height"] / 2})
        page.wait_for_function(f"(b) => ({_SIG})(__gd) !== b", arg=before, timeout=30000)
        after = page.evaluate(f"() => ({_SIG})(__gd)")
        active1 = page.evaluate("() => __gd._fullLayout.sliders[0].active")
        label1 = page.evaluate("() => Array.from(__gd.querySelectorAll('.slider-container text.slider-label')).map(t => t.textContent).find(t => t.includes(' = '))")
        assert active1 == target, (active0, active1)
        assert label1 != label0, (label0, label1)
        # the figure now holds exactly the data that the slider step carries
        ok = page.evaluate("""(k) => {
            const [upd, ids] = __gd.layout.sliders[0].steps[k].args;
            return ids.every((ti, j) => !String(__gd.data[ti].meta || '').startsWith('path:') ||
                JSON.stringify(Array.from(__gd.data[ti].x || [])) === JSON.stringify(Array.from(upd.x[j] || [])));
        }""", target)
        assert ok, "the figure's path data differ from the slider step's data"
        page.wait_for_timeout(300)   # let the transition finish for the screenshot
        gd.screenshot(path=str(ARTIFACTS / "site_explainer_after.png"))
        page.screenshot(path=str(ARTIFACTS / "site_explainer_page.png"), full_page=False)
        print(f"\nslider: {label0!r} -> {label1!r}; requests: {reqs.summary()}")
        assert before != after
        assert not reqs.external and not reqs.failed, reqs.summary()
        assert not errors, errors
    finally: ctx.close()
