#!/usr/bin/env python3
"""Open the built documentation site in headless Chromium and check it as a reader would see it.

Usage (after `crossview_docs --dest _docs`):
    python .ci/browser_check.py [--site _docs] [--out _browser_check] [--install]

The site is served on a loopback port; Chromium is driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`), so nothing but the standard library is needed (Pillow, when present,
measures how blank a screenshot is). Checks:
  1. no request leaves the machine: every request of every page opened goes to the loopback server
     (or is a data:/blob:/about: URL); host names are also mapped to nowhere, so nothing could leave;
  2. search: typing `polar_transform` in the search box lists a result that links to its API entry;
  3. equations render: a page with MathML shows a <math> element with a non-zero size;
  4. outputs are joined: no text output of a page starts with a Python list (`['...`);
  5. every image of the home and architecture pages loads (figures are inside the site), and the sidebar's
     sections come in order (Get started, Tutorials, the three systems, Reference);
  6. a screenshot of the home page (and of the search, an API entry, an equation, the architecture figure) is not blank.
Screenshots are written to --out. Exit status 0 when every check passes, 1 when one fails, and 0 with
a line starting `skipped:` when no Chromium can be found (give --install to try `apt-get install -y chromium`).
"""
import argparse, base64, http.server, io, json, os, select, shutil, subprocess, sys, tempfile, threading, time
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

CANDIDATES = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome', 'headless_shell')
LOCAL_SCHEMES = ('data', 'blob', 'about', 'chrome', 'devtools')


def find_chromium(install: bool = False) -> str | None:
    "Path of a Chromium binary ($CHROMIUM first), optionally installing the Debian package when none is found"
    found = os.environ.get('CHROMIUM') or next((p for c in CANDIDATES if (p := shutil.which(c))), None)
    if found or not install: return found
    if shutil.which('apt-get') and os.geteuid() == 0:
        print('no Chromium found: trying apt-get install -y chromium', flush=True)
        subprocess.run(['apt-get', 'install', '-y', '-q', 'chromium'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return next((p for c in CANDIDATES if (p := shutil.which(c))), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass


def serve(site: Path) -> tuple:
    "Serve `site` on 127.0.0.1 (a free port) from a thread; returns (server, base URL)"
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'


class Browser:
    "Headless Chromium driven over the DevTools protocol on a pipe (fd 3: commands in, fd 4: messages out)"
    def __init__(self, exe: str):
        self.profile = tempfile.mkdtemp(prefix='crossview_browser_')
        r_cmd, self._w_cmd = os.pipe(); self._r_out, w_out = os.pipe()
        args = [exe, '--headless=new', '--remote-debugging-pipe', f'--user-data-dir={self.profile}', '--disable-gpu',
                '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--disable-sync',
                '--disable-component-update', '--disable-domain-reliability', '--disable-features=Translate,MediaRouter',
                '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--window-size=1280,900', 'about:blank']
        if os.geteuid() == 0: args.insert(1, '--no-sandbox')
        def child_fds():   # in the child: the pipe ends become fds 3 and 4 (inheritable; Python's other fds close on exec)
            import fcntl
            a, b = fcntl.fcntl(r_cmd, fcntl.F_DUPFD, 10), fcntl.fcntl(w_out, fcntl.F_DUPFD, 10)
            os.dup2(a, 3); os.dup2(b, 4)
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_cmd); os.close(w_out)
        self._buf, self._id, self.events, self.session = b'', 0, [], None

    def _read_message(self, timeout: float) -> dict:
        end = time.time() + timeout
        while b'\0' not in self._buf:
            if time.time() > end: raise TimeoutError('no message from Chromium')
            ready, _, _ = select.select([self._r_out], [], [], max(0.0, end - time.time()))
            if ready:
                chunk = os.read(self._r_out, 1 << 20)
                if not chunk: raise RuntimeError('Chromium closed the DevTools pipe (it exited)')
                self._buf += chunk
        msg, _, self._buf = self._buf.partition(b'\0')
        return json.loads(msg)

    def send(self, method: str, timeout: float = 30, session: bool = True, **params) -> dict:
        "Send one command and wait for its result (events that arrive meanwhile are kept in self.events)"
        self._id += 1
        msg = dict(id=self._id, method=method, params=params)
        if session and self.session: msg['sessionId'] = self.session
        os.write(self._w_cmd, json.dumps(msg).encode() + b'\0')
        end = time.time() + timeout
        while True:
            m = self._read_message(max(0.1, end - time.time()))
            if m.get('id') == self._id:
                if 'error' in m: raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
            self.events.append(m)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        "Wait for an event (one already received counts), removing it from the list"
        end = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get('method') == method: return self.events.pop(i)
            self.events.append(self._read_message(max(0.1, end - time.time())))

    def open_tab(self):
        "A new page with the Network, Page and Runtime domains enabled"
        target = self.send('Target.createTarget', session=False, url='about:blank')['targetId']
        self.session = self.send('Target.attachToTarget', session=False, targetId=target, flatten=True)['sessionId']
        for domain in ('Network', 'Page', 'Runtime'): self.send(f'{domain}.enable')

    def goto(self, url: str, timeout: float = 30):
        "Load a page and wait for its load event"
        self.events = [e for e in self.events if e.get('method') != 'Page.loadEventFired']
        self.send('Page.navigate', url=url)
        self.wait_event('Page.loadEventFired', timeout)

    def js(self, expression: str):
        "The value of a JavaScript expression in the page (promises awaited)"
        r = self.send('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f'JavaScript error in {expression!r}: {r["exceptionDetails"]}')
        return r['result'].get('value')

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send('Page.captureScreenshot', format='png')['data'])
        path.write_bytes(data); return data

    def requests(self) -> list:
        "URLs of every request the pages have made so far"
        return [e['params']['request']['url'] for e in self.events if e.get('method') == 'Network.requestWillBeSent']

    def close(self):
        try: self.send('Browser.close', session=False, timeout=5)
        except Exception: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def blank_fraction(png: bytes) -> float:
    "Fraction of the screenshot's pixels equal to its most common colour (1.0: blank)"
    try:
        from PIL import Image
    except ImportError:   # without Pillow: a blank PNG compresses to almost nothing
        return 1.0 if len(png) < 5000 else 0.0
    img = Image.open(io.BytesIO(png)).convert('RGB')
    colours = img.getcolors(maxcolors=img.width * img.height)
    return max(n for n, _ in colours) / (img.width * img.height)


def external(urls: list, base: str) -> list:
    "The URLs that would leave the machine"
    host = urlparse(base).netloc
    return [u for u in urls if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).netloc != host]


def run_checks(b: Browser, base: str, site: Path, out: Path) -> list:
    "Every check, as (name, ok, detail)"
    results = []
    b.open_tab()
    b.goto(base + 'index.html')
    shot = b.screenshot(out / 'home.png')
    bf = blank_fraction(shot)
    results.append(('home page screenshot is not blank', bf < 0.97, f'{out / "home.png"}: {bf:.1%} of the pixels in the commonest colour'))
    sections = b.js("[...document.querySelectorAll('nav.nav h2')].map(h => h.textContent)") or []
    want = ['Get started', 'Tutorials', 'Toker 2021', 'Geo2', 'Continent-scale', 'Reference']
    results.append(('sidebar: Get started, Tutorials, the three systems, Reference', [x for x in want if x in sections] == sections and
                    sections[:1] == ['Get started'] and sections[-1:] == ['Reference'], ' / '.join(sections)))
    title = b.js('document.title')
    results.append(('home page has its title', 'crossview_nb' in (title or ''), repr(title)))
    broken = []
    for page in ('index.html', 'architecture.html'):
        if (site / page).exists():
            b.goto(base + page)
            b.js("Promise.all([...document.images].map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })))")
            broken += [f'{page}: {u}' for u in b.js("[...document.images].filter(i => !i.naturalWidth).map(i => i.getAttribute('src'))") or []]
            if page == 'architecture.html':
                b.js("document.querySelector('img[src*=architecture]') && document.querySelector('img[src*=architecture]').scrollIntoView()")
                b.screenshot(out / 'architecture.png')
    results.append(('every image of the home and architecture pages loads', not broken, '; '.join(broken) or 'all loaded'))
    b.goto(base + 'index.html')
    b.js("document.getElementById('search-input').focus()")
    b.send('Input.insertText', text='polar_transform')
    hits = []
    for _ in range(50):
        hits = b.js("[...document.querySelectorAll('#search-results a')].map(a => [a.textContent, a.getAttribute('href')])") or []
        if hits: break
        time.sleep(0.1)
    b.screenshot(out / 'search.png')
    hit = next((h for h in hits if h[1].endswith('#polar_transform')), None)
    results.append(('search finds polar_transform', hit is not None,
                    f'{len(hits)} results, first: {hits[:3]}; screenshot {out / "search.png"}'))
    if hit:
        b.goto(base + hit[1])
        anchor = b.js("!!document.getElementById('polar_transform') && document.getElementById('polar_transform').getBoundingClientRect().height > 0")
        b.screenshot(out / 'api.png')
        results.append(('the search result opens the API entry', bool(anchor), f'{hit[1]}; screenshot {out / "api.png"}'))
    math_pages = [p.name for p in sorted(site.glob('*.html')) if '<math' in p.read_text(encoding='utf-8')]
    shown = None
    for page in math_pages[:8]:   # the first page whose equations are on screen (not folded in a <details>)
        b.goto(base + page)
        shown = b.js("(() => { const m = [...document.querySelectorAll('math')].find(m => m.getBoundingClientRect().height > 0);"
                     " if (!m) return null; m.scrollIntoView({block: 'center'}); const r = m.getBoundingClientRect(); return [r.width, r.height]; })()")
        if shown: b.screenshot(out / 'math.png'); break
    results.append(('equations render (MathML, no script)', not math_pages or (shown and shown[0] > 5 and shown[1] > 5),
                    f'{page}: a <math> element of {shown} px; screenshot {out / "math.png"}' if shown else f'pages with <math>: {math_pages[:8]}, none shown'))
    lists = []
    for page in ('train_cvusa.html', 'architecture.html', 'index.html'):
        if (site / page).exists():
            b.goto(base + page)
            lists += [f'{page}: {t[:60]!r}' for t in b.js("[...document.querySelectorAll('pre.out')].map(p => p.textContent).filter(t => t.startsWith(\"['\"))") or []]
    results.append(('text outputs are joined, not Python lists', not lists, '; '.join(lists) or 'none found'))
    leaving = external(b.requests(), base)
    results.append(('no request leaves the machine', not leaving, f'{len(b.requests())} requests, external: {leaving[:5]}'))
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--site', default='_docs', help='the built site (default: _docs)')
    ap.add_argument('--out', default='_browser_check', help='folder for the screenshots (default: _browser_check)')
    ap.add_argument('--install', action='store_true', help='apt-get install chromium when none is found')
    a = ap.parse_args(argv)
    site, out = Path(a.site).resolve(), Path(a.out).resolve()
    if not (site / 'index.html').exists():
        print(f'browser_check: {site}/index.html not found: build the site first (crossview_docs --dest {a.site})', file=sys.stderr)
        return 2
    exe = find_chromium(a.install)
    if not exe:
        print(f'skipped: no Chromium (looked for $CHROMIUM and {", ".join(CANDIDATES)}; install it with `apt-get install -y chromium` '
              'or run with --install)')
        return 0
    out.mkdir(parents=True, exist_ok=True)
    srv, base = serve(site)
    b = Browser(exe)
    try:
        version = b.send('Browser.getVersion', session=False).get('product', exe)
        print(f'{version} ({exe}), site {site} served at {base}')
        results = run_checks(b, base, site, out)
    finally:
        b.close(); srv.shutdown()
    for name, ok, detail in results: print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    failed = [n for n, ok, _ in results if not ok]
    print(f'{len(results) - len(failed)} passed, {len(failed)} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
