"""The deployment's nginx config (docs/deploy/nginx.conf with snippets/dke-geo-headers.conf), run by Debian's nginx in
front of a real `streamlit run`, over TLS with a throwaway certificate (issue 13, point 10). Only the ports, the
server name, the upstream port and the certificate paths are changed; nginx gets its pid, logs and temp files in a
temp folder.

In Chromium through nginx: every response carries the security headers (HSTS, CSP, X-Frame-Options, nosniff,
Referrer-Policy, Permissions-Policy); the app works under that policy with no CSP violation in any frame: the map
draws, login works (the cookie, Secure over https), the tablet's GPS answers (Permissions-Policy), a photo over 1 MB
uploads (client_max_body_size, the XSRF cookie) and a finding is saved. Plain http is redirected to https, and a
name the site does not serve gets no answer.
"""
from __future__ import annotations

import http.client
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import images
from tests.conftest import ROOT, answers_ok, prepare_app_data
from tests.e2e.helpers import WAIT, login, open_from_menu, wait_for_app_run
from tests.pgserver import free_port

pytestmark = pytest.mark.browser
NGINX = "/usr/sbin/nginx"
DEPLOY = ROOT / "docs" / "deploy"
GPS = {"latitude": 55.66031, "longitude": 12.35705, "accuracy": 8}
_CSP_REPORTS = """
window.dkeCspViolations = [];
document.addEventListener("securitypolicyviolation",
  e => window.dkeCspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


class Nginx:
    """Debian's nginx running docs/deploy/nginx.conf in `folder`, in front of the app on `app_port`."""

    def __init__(self, folder: Path, app_port: int):
        if not os.path.exists(NGINX):
            pytest.fail("Debian's nginx is required for this test: apt-get install nginx", pytrace=False)
        self.folder, self.https_port, self.http_port = folder, free_port(), free_port()
        self.url = f"https://localhost:{self.https_port}"
        shutil.copytree(DEPLOY / "snippets", folder / "snippets")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", str(folder / "tls.key"),
                        "-out", str(folder / "tls.pem")], check=True, capture_output=True)
        site = (DEPLOY / "nginx.conf").read_text()
        for old, new in (("server 127.0.0.1:8501;", f"server 127.0.0.1:{app_port};"),
                         ("listen 80 default_server;", f"listen 127.0.0.1:{self.http_port} default_server;"),
                         ("listen 443 ssl default_server;", f"listen 127.0.0.1:{self.https_port} ssl default_server;"),
                         ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
                         ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
                         ("server_name dke-geo.albertslund.dk;", "server_name localhost;"),
                         ("/etc/ssl/certs/dke-geo.albertslund.dk.pem", str(folder / "tls.pem")),
                         ("/etc/ssl/private/dke-geo.albertslund.dk.key", str(folder / "tls.key"))):
            assert old in site, f"docs/deploy/nginx.conf no longer has {old!r}: change this test with it"
            site = site.replace(old, new)
        (folder / "dke-geo.conf").write_text(site)
        temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                              "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")  # workers must reach the temp folder (0700, ours)
            + f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n    include dke-geo.conf;\n}}\n")

    def start(self) -> Nginx:
        self.proc = subprocess.Popen([NGINX, "-p", f"{self.folder}/", "-c", str(self.folder / "nginx.conf"),
                                      "-e", str(self.folder / "error.log"), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if not answers_ok(f"{self.url}/_stcore/health", self.proc, 30, get=_get):  # the app, through nginx
            self.stop()
            raise RuntimeError(f"nginx did not start: {(self.folder / 'error.log').read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _get(url: str, timeout: float = 5):
    """GET `url`, trusting the throwaway certificate, not following redirects."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    return opener.open(url, timeout=timeout)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, streamlit_server):
    app = streamlit_server(prepare_app_data(tmp_path_factory.mktemp("proxied_app")))
    server = Nginx(tmp_path_factory.mktemp("nginx"), app.port).start()
    yield server
    server.stop()


@pytest.fixture
def tablet(browser: Browser, proxy):
    """A tablet-sized Chromium context that trusts the test certificate, may use its position and the camera, and
    records every CSP violation in every frame."""
    context = browser.new_context(ignore_https_errors=True, locale="da-DK", viewport={"width": 1024, "height": 900},
                                  geolocation=GPS, permissions=["geolocation", "camera"])
    context.add_init_script(_CSP_REPORTS)
    yield context
    context.close()


def _headers_are_secure(headers: dict, where: str) -> None:
    assert headers.get("strict-transport-security") == "max-age=63072000; includeSubDomains", where
    assert headers.get("x-frame-options") == "SAMEORIGIN", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "same-origin", where
    assert "geolocation=(self), camera=(self), microphone=()" in headers.get("permissions-policy", ""), where
    csp = headers.get("content-security-policy", "")
    for part in ("default-src 'self'", "frame-ancestors 'self'", "object-src 'none'", "connect-src 'self'",
                 "img-src 'self' data: blob: https://tile.openstreetmap.org"):
        assert part in csp, (where, part)


def _violations(page: Page) -> list[str]:
    return [v for frame in page.frames for v in (frame.evaluate("() => window.dkeCspViolations || []"))]


def test_the_app_works_behind_nginx_with_its_security_headers(tablet, proxy, tmp_path):
    page = tablet.new_page()
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)
    responses, errors, elsewhere = {}, [], []
    page.on("response", lambda r: responses.setdefault(r.url.split("?")[0], r))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.context.route(lambda url: not url.startswith((proxy.url, "data:", "blob:")),
                       lambda route: (elsewhere.append(route.request.url), route.abort()))

    page.goto(proxy.url)
    login(page)
    open_from_menu(page, "Kort over områderne")
    frame = page.frame_locator('iframe[title="Albertslund Kommune og boligområderne"]')
    expect(frame.locator("path.dke-area").first).to_be_attached()  # the map draws inside its own frame
    expect(frame.locator(".leaflet-container")).to_be_visible()

    main = responses[f"{proxy.url}/"].all_headers()
    _headers_are_secure(main, "the app's page")
    script_src = main["content-security-policy"].split("script-src")[1].split(";")[0]
    assert script_src.split() == ["'self'", "blob:", "'unsafe-inline'", "'wasm-unsafe-eval'"]  # no other server
    script = next(r for url, r in responses.items() if url.endswith(".js") and "/static/" in url)
    _headers_are_secure(script.all_headers(), "a script")

    # Recording on the tablet: the GPS (Permissions-Policy), a 2 MB photo (nginx's body limit, the XSRF cookie), save.
    page.goto(f"{proxy.url}/record")
    expect(page.get_by_role("heading", name="Registrér fund")).to_be_visible()
    page.get_by_label("Titel").fill("Aftenvandring bag nginx")
    page.get_by_role("button", name="Blokland", exact=True).click()
    page.get_by_role("button", name="Start vandringen").click()
    page.get_by_role("button", name="Brug min position").click()
    expect(page.get_by_text("Placering 55.66031, 12.35705 (GPS) · nøjagtighed ±8 m")).to_be_visible()
    (component,) = [r for url, r in responses.items() if "/component/streamlit_folium" in url and url.endswith(".html")]
    _headers_are_secure(component.all_headers(), "the recording map's frame")
    page.get_by_role("radio", name="Belysning", exact=True).click()
    wait_for_app_run(page)
    photo = tmp_path / "lampe.jpg"
    photo.write_bytes(images.jpeg(images.noise(1800, 1400), gps=images.BLOKLAND_DMS))
    assert photo.stat().st_size > 2**21
    page.locator('input[type="file"]').first.set_input_files(photo)
    expect(page.get_by_role("button", name="Brug fotoets position")).to_be_visible()  # it reached the app
    top = "() => document.querySelector('.st-key-record_layout').getBoundingClientRect().top"
    page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, main.scrollHeight)")
    assert page.evaluate(top) < -100  # the map is out of sight, above
    page.get_by_role("button", name="Gem fund").click()
    expect(page.get_by_text("GPS ±8 m · 1 foto(s)")).to_be_visible()  # saved, with the photo
    wait_for_app_run(page)
    page.wait_for_function(f"() => Math.abs(({top})()) < 100")  # and the map is brought back into view

    assert _violations(page) == [] and errors == [] and elsewhere == []
    assert any(c["name"] == "dke_geo_session" and c["secure"] for c in tablet.cookies())


def test_plain_http_is_redirected_and_other_names_get_no_answer(proxy):
    with pytest.raises(urllib.error.HTTPError) as redirect:
        _get(f"http://localhost:{proxy.http_port}/record")
    assert redirect.value.code == 301 and redirect.value.headers["Location"] == "https://localhost/record"
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _get(f"http://127.0.0.1:{proxy.http_port}/")
    with pytest.raises(urllib.error.URLError) as refused:
        _get(f"https://127.0.0.1:{proxy.https_port}/")
    assert "UNRECOGNIZED_NAME" in str(refused.value.reason)  # the TLS handshake is refused for another name
