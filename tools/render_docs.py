#!/usr/bin/env python
"""Offline HTML documentation for an nbdev project, without Quarto.

Quarto (what `nbdev_docs` needs) cannot be installed on machines without access to GitHub, so this script builds the
site from the notebooks with Jupyter's own tools:

1. execute every notebook (or those named by `--execute`) with its default, quick parameters in a Jupyter kernel
   (nbclient, `--jobs` worker processes; the notebooks are stored without outputs). Cells marked `#| eval: false`,
   and `#| notest` cells that display a live widget (source matching `--live-re`, by default a call of `explore(`),
   are not run: a static page has no kernel, so they show their source and a note pointing to the kernel-free figure;
2. process them with nbdev's documentation processors (what `nbdev_proc_nbs` does: front matter, `show_doc`, hidden and
   export cells, links to the API), in a staging folder;
3. convert them with nbconvert's `lab` template and a small template of ours: a sidebar listing every page (sections
   from `_quarto.yml` where it has them), math typeset by MathJax 2 served from the site (files from the
   `jupyter-server-mathjax` package), plotly figures drawn by the `plotly.min.js` of the installed plotly package,
   copied into the site once. Every plotly output (`application/vnd.plotly.v1+json`) becomes a kernel-free figure,
   sliders included. No page loads anything from outside the site: no CDN, no require.js, no widget manager.

Usage: python tools/render_docs.py [--out _docs] [--jobs N] [--execute NB ... | --no-execute] [--only NB ...]
Run it from the project (the folder with settings.ini) or pass --root. The script imports nothing of the project; the
notebooks run in kernels, and nbdev's show_doc step runs their export and import cells in the worker processes.
"""
from __future__ import annotations
import argparse, configparser, fnmatch, html, json, os, re, shutil, sys, tempfile, time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
LIVE_NOTE = ("<div class='docs-note'>Live widget: it needs a running kernel, so it is not shown on this static page. "
             "Run the notebook in JupyterLab to use it; the kernel-free figure on this page works without one.</div>")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

# ------------------------------------------------------------------------------------------------------------ project
def find_root(start:Path) -> Path:
    "The nearest folder at or above `start` holding settings.ini (nbdev 2) or a pyproject.toml with [tool.nbdev]."
    for d in [start, *start.parents]:
        if (d / "settings.ini").exists(): return d
        pp = d / "pyproject.toml"
        if pp.exists() and "[tool.nbdev]" in pp.read_text(): return d
    raise SystemExit(f"no settings.ini or pyproject.toml with [tool.nbdev] at or above {start}: pass --root")

def read_settings(root:Path) -> dict:
    "nbs_path, doc_path, title, description, doc_host, doc_baseurl from settings.ini (defaults otherwise)."
    cfg = {"nbs_path": "nbs", "doc_path": "_docs", "title": root.name, "description": "", "doc_host": "", "doc_baseurl": "/"}
    ini = root / "settings.ini"
    if ini.exists():
        cp = configparser.ConfigParser(interpolation=None); cp.read(ini)
        cfg.update({k: v for k, v in cp["DEFAULT"].items() if k in cfg})
    return cfg

def notebooks(nbs:Path) -> list:
    "Notebooks under `nbs`, skipping hidden and underscore folders and files (nbdev's rule)."
    out = []
    for p in sorted(nbs.rglob("*.ipynb")):
        rel = p.relative_to(nbs)
        if any(part.startswith((".", "_")) for part in rel.parts): continue
        out.append(rel)
    return out

def page_of(rel:Path) -> Path:
    "The page a notebook becomes, as nbdev names it: nbs/00_core.ipynb -> core.html (number prefix dropped)."
    return rel.with_name(re.sub(r"^\d+[a-zA-Z0-9]*_", "", rel.name.lower())).with_suffix(".html")

def title_of(nb_path:Path) -> tuple:
    "(title, description) from the notebook's first markdown cell ('# title' and '> description')."
    nb = json.loads(nb_path.read_text())
    for c in nb["cells"]:
        if c["cell_type"] != "markdown": continue
        src = "".join(c["source"])
        t = re.search(r"^#\s+(.+)$", src, re.M)
        if not t: continue
        d = re.search(r"^>.*(?:\n>.*)*", src, re.M)     # the description may continue over several '>' lines
        desc = " ".join(l.lstrip(">").strip() for l in d.group(0).splitlines()) if d else ""
        return t.group(1).strip(), desc.strip()
    return nb_path.stem, ""

# ---------------------------------------------------------------------------------------------------------- execution
def _directives(src:str) -> dict:
    out = {}
    for line in src.splitlines():
        m = re.match(r"\s*#\s*\|\s*([\w-]+:?)\s*(.*)$", line)
        if not m: break
        out[m.group(1)] = m.group(2).strip()
    return out

def _skip(src:str, live_re:str) -> str|None:
    "Why a code cell is not executed for the docs (None: execute it)."
    d = _directives(src)
    if d.get("eval:", "").lower() == "false": return "eval"
    if "notest" in d and live_re and re.search(live_re, src): return "live"
    return None

_SHOW_DIRS = {"export", "exports", "exporti", "exec_doc"}

def _mixes_imports(src:str) -> bool:
    "Does this cell hold an import (anywhere) *and* other statements? nbdev runs import cells alone for show_doc."
    import ast
    try: tree = ast.parse("\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!"))))
    except SyntaxError: return False
    has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
    return has_import and not all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)

def _fix_outputs(nb):
    "Kernel-free outputs: widget views become a note; nothing refers to widget state."
    nb.metadata.pop("widgets", None)
    for c in nb.cells:
        if c.cell_type != "code": continue
        for o in c.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result") and WIDGET_MIME in o.get("data", {}):
                o["data"] = {"text/html": LIVE_NOTE}
                o["metadata"] = {}

def process_notebook(job:dict) -> dict:
    "Execute (unless told not to) and nbdev-process one notebook; runs in a worker process."
    import nbformat
    t0 = time.perf_counter()
    src, stage, proc = Path(job["src"]), Path(job["stage"]), Path(job["proc"])
    nb = nbformat.read(src, as_version=4)
    skipped = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and c.source.strip():
            why = _skip(c.source, job["live_re"])
            if why: skipped[i] = (why, c.source)
    if job["execute"]:
        from nbclient import NotebookClient
        for i in skipped: nb.cells[i].source = ""   # nbclient skips empty cells
        try:
            NotebookClient(nb, timeout=job["timeout"], kernel_name=job["kernel"], store_widget_state=False,
                           resources={"metadata": {"path": str(src.parent)}}).execute()
        except Exception as e:
            raise RuntimeError(f"executing {src} failed:\n{e}") from None
        for i, (why, s) in skipped.items():
            nb.cells[i].source = s
            if why == "live": nb.cells[i].outputs = [nbformat.v4.new_output("display_data", data={"text/html": LIVE_NOTE})]
    _fix_outputs(nb)
    stage.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, stage)
    # nbdev's documentation processors (as nbdev_proc_nbs runs them), with the project's settings
    os.chdir(job["root"])
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    from nbdev.process import NBProcessor
    from nbdev.processors import exec_show_docs
    class exec_docs(exec_show_docs):
        "nbdev's exec_show_docs, but a cell that mixes imports and other code is left alone (nbdev would run it"
        "without the cells before it; it was executed in order above)."
        def __call__(self, cell):
            if cell.cell_type == "code" and _mixes_imports(cell.source) and not (cell.directives_.keys() & _SHOW_DIRS): return
            return super().__call__(cell)
    pnb = read_nb(stage)
    procs = [exec_docs if p is exec_show_docs else p for p in FilterDefaults().procs()]
    os.environ["IN_TEST"] = "1"   # as nbdev_proc_nbs does
    try: NBProcessor(nb=pnb, procs=procs).process()
    finally: os.environ.pop("IN_TEST", None)
    proc.parent.mkdir(parents=True, exist_ok=True)
    write_nb(pnb, proc)
    n_fig = convert(proc, job)
    return {"src": str(src), "page": job["page"], "figures": n_fig, "executed": bool(job["execute"]),
            "seconds": time.perf_counter() - t0}

# ---------------------------------------------------------------------------------------------------------- template
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex2jax: {inlineMath: [['$','$'], ['\\(','\\)']], displayMath: [['$$','$$'], ['\\[','\\]']],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
  displayAlign: "center", messageStyle: "none", showMathMenu: false,
  menuSettings: {zoom: "None", assistiveMML: false, CHTMLpreview: false},
  AssistiveMML: {disabled: true},   // its hidden MathML would ask for TeX fonts, which the package does not ship
  "fast-preview": {disabled: true}  // one typesetting pass instead of two
};
</script>
<script src="{{ resources.site_root }}mathjax/MathJax.js?config={{ resources.mathjax_config }}"></script>
{%- if resources.has_plotly %}
<script src="{{ resources.site_root }}plotly.min.js"></script>
{%- endif %}
{%- endblock html_head_js_mathjax -%}
{% block input %}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
     </div>
</div>
{%- endblock input %}
{% block extra_css %}
<link rel="stylesheet" href="{{ resources.site_root }}site.css">
{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.sidebar }}
<main class="docs-main">
<header class="docs-header"><h1 class="docs-title">{{ resources.page_title | e }}</h1>
{%- if resources.page_description %}<p class="docs-description">{{ resources.page_description | e }}</p>{% endif %}
{%- if resources.page_note %}<p class="docs-note">{{ resources.page_note | e }}</p>{% endif %}
</header>
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.pager }}
</main>
</body>
{% endblock body_footer %}
"""

SITE_CSS = """
body.jp-Notebook { margin: 0; padding: 0; }
#docs-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 250px; overflow-y: auto; padding: 16px 12px;
  box-sizing: border-box; background: #f7f7f9; border-right: 1px solid #ddd; font-family: system-ui, sans-serif;
  font-size: 14px; }
#docs-sidebar .site-title { display: block; font-size: 20px; font-weight: 600; color: #222; text-decoration: none;
  margin-bottom: 2px; }
#docs-sidebar .site-description { color: #666; font-size: 12px; margin: 0 0 12px 0; }
#docs-sidebar .section { margin: 14px 0 4px 0; font-weight: 600; color: #444; text-transform: uppercase; font-size: 11px;
  letter-spacing: .05em; }
#docs-sidebar ul { list-style: none; margin: 0; padding: 0; }
#docs-sidebar li a { display: block; padding: 3px 6px; border-radius: 4px; color: #1a55a0; text-decoration: none; }
#docs-sidebar li a:hover { background: #e8eef7; }
#docs-sidebar li a[aria-current="page"] { background: #1a55a0; color: white; }
main.docs-main { margin-left: 250px; padding: 8px 24px 48px 24px; max-width: 1180px; }
.docs-header { padding: 8px 0 0 4px; font-family: system-ui, sans-serif; }
.docs-title { margin-bottom: 4px; }
.docs-description { color: #555; font-size: 16px; margin-top: 0; }
.docs-note { border-left: 4px solid #1a55a0; background: #eef3fa; padding: 6px 10px; font-family: system-ui, sans-serif; }
.docs-pager { display: flex; justify-content: space-between; margin-top: 32px; font-family: system-ui, sans-serif; }
.jp-OutputArea-output { overflow-x: auto; }
@media (max-width: 800px) { #docs-sidebar { position: static; width: auto; } main.docs-main { margin-left: 0; } }
"""

# ----------------------------------------------------------------------------------------------------------- sidebar
def sidebar_sections(root:Path, nbs:Path, rels:list) -> list:
    "[(section or None, [notebook rel paths])] from _quarto.yml's website.sidebar.contents; other notebooks appended."
    qy = root / "_quarto.yml"
    if not qy.exists(): qy = nbs / "_quarto.yml"
    spec = []
    try: import yaml   # PyYAML comes with jupyter_server; without it the sidebar is grouped by folder
    except ImportError: yaml = None
    base = qy.parent
    if qy.exists() and yaml is not None:
        y = yaml.safe_load(qy.read_text()) or {}
        spec = (((y.get("website") or {}).get("sidebar") or {}).get("contents")) or []
    all_paths = {(nbs / r).resolve(): r for r in rels}
    used, out = set(), []
    def expand(pattern):
        hits = []
        for p, r in all_paths.items():
            rp = os.path.relpath(p, base).replace(os.sep, "/")
            if fnmatch.fnmatch(rp, pattern) and r not in used: hits.append(r); used.add(r)
        return sorted(hits, key=str)
    loose = []
    for item in spec:
        if isinstance(item, str): loose += expand(item)
        elif isinstance(item, dict) and "section" in item:
            cont = item.get("contents") or []
            if isinstance(cont, str): cont = [cont]
            if loose: out.append((None, loose)); loose = []
            out.append((str(item["section"]), [r for c in cont if isinstance(c, str) for r in expand(c)]))
    if loose: out.append((None, loose))
    rest = [r for r in rels if r not in used]
    groups = {}
    for r in rest: groups.setdefault(r.parent.as_posix(), []).append(r)
    for folder, rs in groups.items():
        name = "Pages" if folder == "." else folder.replace("_", " ").replace("/", " / ").capitalize()
        out.append((name, rs))
    return out

def render_sidebar(sections, titles, current:Path, site:dict) -> str:
    root = _rel_root(page_of(current))
    parts = [f"<nav id='docs-sidebar' aria-label='site'><a class='site-title' href='{root}index.html'>"
             f"{html.escape(site['title'])}</a>"]
    if site.get("description"): parts.append(f"<p class='site-description'>{html.escape(site['description'])}</p>")
    for sec, rels in sections:
        if not rels: continue
        if sec: parts.append(f"<div class='section'>{html.escape(sec)}</div>")
        parts.append("<ul>")
        for r in rels:
            cur = " aria-current='page'" if r == current else ""
            parts.append(f"<li><a href='{root}{page_of(r).as_posix()}'{cur}>{html.escape(titles[r][0])}</a></li>")
        parts.append("</ul>")
    parts.append("</nav>")
    return "\n".join(parts)

def _rel_root(page:Path) -> str: return "../" * (len(page.parts) - 1)

# ------------------------------------------------------------------------------------------------------ conversion
def _plotly_html(fig_json:dict, div_id:str) -> str:
    "A kernel-free plotly figure (plotly.js comes from the page head)."
    import plotly.io as pio
    return pio.to_html(fig_json, include_plotlyjs=False, include_mathjax=False, full_html=False, div_id=div_id,
                       validate=False, config={"responsive": True})

def _prepare(nb, page_stem:str) -> tuple:
    "Drop nbdev's front matter cell; plotly outputs become kernel-free HTML; show_doc markdown without Quarto syntax."
    fm = {}
    cells, n_fig = [], 0
    for c in nb.cells:
        if c.cell_type == "raw" and c.source.lstrip().startswith("---"):
            for line in c.source.splitlines():
                m = re.match(r"^(\w[\w-]*):\s*(.*)$", line)
                if m: fm[m.group(1)] = m.group(2).strip().strip("'\"")
            continue
        if c.cell_type == "code":
            for o in c.get("outputs", []):
                data = o.get("data", {})
                if PLOTLY_MIME in data:
                    n_fig += 1
                    o["data"] = {"text/html": _plotly_html(data[PLOTLY_MIME], f"fig-{page_stem}-{n_fig}")}
                    o["metadata"] = {}
                elif "text/markdown" in data:
                    data["text/markdown"] = re.sub(r"\{target=\"_blank\"[^}]*\}", "", data["text/markdown"])
        cells.append(c)
    nb.cells = cells
    for k in ("widgets",): nb.metadata.pop(k, None)
    # nbdev writes keys newer nbformat validation rejects
    for c in nb.cells:
        c.metadata.pop("execution", None)
        if c.cell_type == "markdown": c.pop("outputs", None); c.pop("execution_count", None)
    return fm, n_fig

def _rewrite_links(body:str, rel:Path, nb_pages:dict, doc_prefix:str) -> str:
    "Links to notebooks and to the published docs (nbdev's API links) become relative links inside the site."
    page = page_of(rel); root = _rel_root(page)
    def fix(m):
        attr, q, url = m.group(1), m.group(2), m.group(3)
        u = html.unescape(url)
        if doc_prefix and u.startswith(doc_prefix):
            return f"{attr}={q}{root}{html.escape(u[len(doc_prefix):])}{q}"
        sp = urlsplit(u)
        if sp.scheme or sp.netloc or not sp.path.endswith(".ipynb"): return m.group(0)
        target = os.path.normpath((rel.parent / sp.path).as_posix())
        if target not in nb_pages: return m.group(0)
        new = os.path.relpath(nb_pages[target], page.parent.as_posix() or ".").replace(os.sep, "/")
        return f"{attr}={q}{html.escape(new + ('#' + sp.fragment if sp.fragment else ''))}{q}"
    return re.sub(r"(href|src)=(['\"])([^'\"]*)\2", fix, body)

def convert(proc:Path, job:dict) -> int:
    "Write the page of processed notebook `proc` (sidebar, pager and titles come in `job`); returns its figure count."
    import jinja2, nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    exp = HTMLExporter(config=c, template_name="lab", extra_loaders=[jinja2.DictLoader({"docs.html.j2": TEMPLATE})])
    exp.template_file = "docs.html.j2"
    import warnings
    with warnings.catch_warnings():   # nbdev writes cells without ids; nbformat would only warn about it
        warnings.simplefilter("ignore")
        nb = nbformat.read(proc, as_version=4)
    rel, page = Path(job["rel"]), Path(job["page"])
    fm, n_fig = _prepare(nb, page.stem)
    title, desc = fm.get("title") or job["title"], job["description"] or fm.get("description", "")
    root = _rel_root(page)
    res = {"metadata": {"name": title}, "site_root": root, "mathjax_config": MATHJAX_CONFIG, "has_plotly": n_fig > 0,
           "sidebar": job["sidebar"], "pager": job["pager"], "page_title": title, "page_description": desc,
           "page_note": "" if job["execute"] else "This page was built without running the notebook, so it shows no "
                        "outputs: run it in JupyterLab, or build the site with its notebooks executed."}
    nb.metadata["title"] = job["html_title"]
    body, _ = exp.from_notebook_node(nb, resources=res)
    body = _rewrite_links(body, rel, job["nb_pages"], job["doc_prefix"])
    body = _lower_anchors(body)
    dst = Path(job["out"]) / page
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(body, encoding="utf-8")
    return n_fig

def _lower_anchors(body:str) -> str:
    "Headings also get a lower-case anchor: nbdev's API links point to `page.html#name` in lower case (as Quarto's)."
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    def add(m):
        i = m.group(2); lo = i.lower()
        if lo == i or lo in ids: return m.group(0)
        ids.add(lo)
        return f'{m.group(0)}<span id="{lo}"></span>'
    return re.sub(r'<(h[1-6]) id="([^"]+)"[^>]*>', add, body)

def _pager(rels, i, titles) -> str:
    root = _rel_root(page_of(rels[i]))
    def link(j, arrow, cls):
        if j < 0 or j >= len(rels): return "<span></span>"
        q = rels[j]
        return f"<a class='{cls}' href='{root}{page_of(q).as_posix()}'>{arrow} {html.escape(titles[q][0])}</a>"
    return f"<nav class='docs-pager'>{link(i - 1, '&larr;', 'prev')}{link(i + 1, '&rarr;', 'next')}</nav>"

def fix_fragments(out:Path, pages:list) -> int:
    "Links to another page's missing anchor (nbdev links private names, which get no show_doc) go to the page itself."
    ids = {p: set(re.findall(r'\sid="([^"]+)"', (out / p).read_text(encoding="utf-8"))) for p in pages}
    n = 0
    for p in pages:
        f = out / p
        body = f.read_text(encoding="utf-8")
        def fix(m):
            nonlocal n
            target = os.path.normpath(os.path.join(os.path.dirname(p), html.unescape(m.group(1)))).replace(os.sep, "/")
            frag = html.unescape(m.group(2))
            if target not in ids or frag in ids[target] or quote(frag, safe="") in ids[target] or unquote(frag) in ids[target]:
                return m.group(0)
            n += 1
            return f'href="{m.group(1)}"'
        new = re.sub(r'href="([^"#:]+\.html)#([^"]+)"', fix, body)
        if new != body: f.write_text(new, encoding="utf-8")
    return n

def copy_assets(nbs:Path, out:Path):
    "plotly.js, MathJax, the site CSS and the notebooks' own files (images...)."
    try: import plotly
    except ImportError: raise SystemExit("render_docs needs plotly (pip install plotly)")
    try: import jupyter_server_mathjax
    except ImportError: raise SystemExit("render_docs needs MathJax files: pip install jupyter-server-mathjax "
                                         "(part of the project's [dev] extra)")
    shutil.copy2(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out / "plotly.min.js")
    mj = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(mj, out / "mathjax", dirs_exist_ok=True)
    (out / "site.css").write_text(SITE_CSS)
    for p in nbs.rglob("*"):
        rel = p.relative_to(nbs)
        if p.is_dir() or p.suffix in (".ipynb", ".py", ".yml", ".yaml") or \
           any(part.startswith((".", "_")) for part in rel.parts): continue
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, out / rel)

# -------------------------------------------------------------------------------------------------------------- main
def _matches(rel:Path, patterns) -> bool:
    return any(fnmatch.fnmatch(rel.as_posix(), o) or fnmatch.fnmatch(rel.stem, o) for o in patterns)

def build(root:Path, out:Path, *, execute=True, jobs:int|None=None, only:list|None=None, timeout:int=600,
          live_re:str=r"\bexplore\(", kernel:str="python3", keep:Path|None=None, quiet:bool=False) -> dict:
    """Build the site from the notebooks of `root` into `out`. `execute`: True (all notebooks), False (none) or a list
    of globs/stems (only those notebooks are executed; the others show their source without outputs)."""
    t0 = time.perf_counter()
    site = read_settings(root)
    nbs = root / site["nbs_path"]
    rels = notebooks(nbs)
    if not rels: raise SystemExit(f"no notebooks in {nbs}")
    if only:
        rels = [r for r in rels if _matches(r, only)]
        if not rels: raise SystemExit(f"--only {only} matches no notebook in {nbs}")
    if isinstance(execute, (list, tuple)):
        if not any(_matches(r, execute) for r in rels): raise SystemExit(f"--execute {execute} matches no notebook")
        run_it = {r: _matches(r, execute) for r in rels}
    else: run_it = {r: bool(execute) for r in rels}
    titles = {r: title_of(nbs / r) for r in rels}
    sections = sidebar_sections(root, nbs, rels)
    order = [r for _, rs in sections for r in rs]
    work = Path(tempfile.mkdtemp(prefix="render_docs_")) if keep is None else keep
    work.mkdir(parents=True, exist_ok=True)
    stage, proc = work / "stage", work / "proc"
    nb_pages = {r.as_posix(): page_of(r).as_posix() for r in order}
    doc_prefix = ""
    if site.get("doc_host"):
        doc_prefix = (site["doc_host"].rstrip("/") + "/" + site["doc_baseurl"].strip("/")).rstrip("/") + "/"
    out.mkdir(parents=True, exist_ok=True)
    jobs_ = [dict(src=str(nbs / r), stage=str(stage / r), proc=str(proc / r), execute=run_it[r], timeout=timeout,
                  live_re=live_re, kernel=kernel, root=str(root), rel=r.as_posix(), page=page_of(r).as_posix(),
                  out=str(out), title=titles[r][0], description=titles[r][1], nb_pages=nb_pages, doc_prefix=doc_prefix,
                  html_title=site["title"] if r.as_posix() == "index.ipynb" else f"{titles[r][0]} – {site['title']}",
                  sidebar=render_sidebar(sections, titles, r, site), pager=_pager(order, i, titles))
             for i, r in enumerate(order)]
    # the executed notebooks first (they take longest), then spread over `n` worker processes
    n = max(1, min(jobs or os.cpu_count() or 1, len(jobs_)))
    queue = sorted(jobs_, key=lambda j: not j["execute"])
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path: sys.path.insert(0, here)
    import render_docs as me   # so that worker processes find the functions by module name, also when run as a script
    results = []
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as ex:
        results = list(ex.map(me.process_notebook, queue))   # workers live on: imports are paid once per worker
    figures, times = {}, {}
    for res in sorted(results, key=lambda r: order.index(Path(r["src"]).relative_to(nbs))):
        rel = Path(res["src"]).relative_to(nbs).as_posix()
        times[rel], figures[res["page"]] = res["seconds"], res["figures"]
        if not quiet: print(f"  {rel} -> {res['page']}: {'executed, ' if res['executed'] else ''}"
                            f"{res['figures']} figures, {res['seconds']:.1f} s", flush=True)
    copy_assets(nbs, out)
    n_fixed = fix_fragments(out, list(figures))
    if keep is None: shutil.rmtree(work, ignore_errors=True)
    secs = time.perf_counter() - t0
    if not quiet:
        print(f"{len(figures)} pages ({sum(run_it.values())} executed), {sum(figures.values())} plotly figures -> {out} "
              f"in {secs:.1f} s ({n} processes)" + (f"; {n_fixed} links to a missing anchor now point to the page" if n_fixed else ""))
    return {"pages": list(figures), "figures": figures, "executed": [r.as_posix() for r in order if run_it[r]],
            "seconds": secs, "notebook_seconds": times}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=None, help="project folder (default: found from the current folder)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: doc_path of settings.ini, _docs)")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: number of CPUs)")
    ex = ap.add_mutually_exclusive_group()
    ex.add_argument("--no-execute", action="store_true", help="execute no notebook (pages show code without outputs)")
    ex.add_argument("--execute", nargs="+", default=None, metavar="NB",
                    help="execute only these notebooks (stems or globs relative to nbs); default: all")
    ap.add_argument("--only", nargs="+", default=None, metavar="NB", help="build only these notebooks' pages")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("--live-re", default=r"\bexplore\(", help="regex of `#| notest` cells that show a live widget")
    ap.add_argument("--keep", type=Path, default=None, help="keep the executed and processed notebooks in this folder")
    ap.add_argument("--summary", type=Path, default=None, help="write a JSON summary (pages, figures, seconds) here")
    a = ap.parse_args(argv)
    root = (a.root or find_root(Path.cwd())).resolve()
    out = (a.out or root / read_settings(root)["doc_path"]).resolve()
    execute = False if a.no_execute else (a.execute or True)
    s = build(root, out, execute=execute, jobs=a.jobs, only=a.only, timeout=a.timeout, live_re=a.live_re,
              keep=a.keep.resolve() if a.keep else None)
    if a.summary: a.summary.write_text(json.dumps(s, indent=1))

if __name__ == "__main__":
    main()
