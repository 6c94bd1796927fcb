"""The Chromium harness sees what a page tries: blocked and failed requests, console and page errors.

Without these, "no problems" in the report and Data Docs tests could mean the
harness was blind rather than that the page was clean.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import Chromium, ChromiumMissing, chromium, chromium_executable, is_allowed


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with chromium() as running:
        yield running


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[str]:
    """A static file server on 127.0.0.1 (a free port) serving tmp_path."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def test_only_local_urls_are_allowed() -> None:
    assert is_allowed("file:///tmp/x.html")
    assert is_allowed("data:image/png;base64,AAAA")
    assert is_allowed("http://127.0.0.1:8080/a.js")
    assert not is_allowed("http://localhost:8080/a.js")
    assert not is_allowed("https://cdn.jsdelivr.net/npm/vega@5")
    assert not is_allowed("https://127.0.0.1.example.com/")


def test_a_missing_chromium_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIFECYCLE_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(ChromiumMissing, match="apt-get install -y chromium"):
        chromium_executable()


def test_remote_requests_are_blocked_and_recorded(browser: Chromium, tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    page_file.write_text(
        "<!DOCTYPE html><html><head>"
        '<link rel="stylesheet" href="https://cdn.example.com/style.css">'
        '<script src="https://cdn.example.com/lib.js"></script>'
        "</head><body><h1 id='t'>标题</h1>"
        '<img src="https://images.example.com/logo.png?dataContextId=1">'
        "</body></html>",
        encoding="utf-8",
    )
    with browser.open(page_file) as page:
        assert sorted(page.blocked) == [
            "https://cdn.example.com/lib.js",
            "https://cdn.example.com/style.css",
            "https://images.example.com/logo.png?dataContextId=1",
        ]
        assert page.failed == []  # a blocked request is reported once, as blocked
        assert page.text("#t") == "标题"
        assert len(page.problems()) >= 3


def test_console_errors_page_errors_and_missing_files_are_recorded(browser: Chromium, tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    page_file.write_text(
        "<!DOCTYPE html><html><body>"
        "<script>console.error('bad thing'); console.log('fine');</script>"
        "<script>throw new TypeError('boom');</script>"
        '<img src="missing.png">'
        "</body></html>",
        encoding="utf-8",
    )
    with browser.open(page_file) as page:
        assert any("bad thing" in e for e in page.console_errors)
        assert not any("fine" in e for e in page.console_errors)
        assert page.page_errors == ["TypeError: boom"]
        assert len(page.failed) == 1 and "missing.png" in page.failed[0]
        assert page.blocked == []


def test_a_localhost_server_is_allowed_and_http_errors_count_as_failed(
    browser: Chromium, tmp_path: Path, local_server: str
) -> None:
    (tmp_path / "app.js").write_text("document.getElementById('out').textContent = 'ran';", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        "<!DOCTYPE html><html><body><p id='out'>not yet</p>"
        '<script src="app.js"></script><script src="gone.js"></script>'
        "</body></html>",
        encoding="utf-8",
    )
    with browser.open(f"{local_server}/index.html") as page:
        assert page.text("#out") == "ran"
        assert page.blocked == []
        assert len(page.failed) == 1 and "gone.js (HTTP 404)" in page.failed[0]


def test_a_screenshot_is_written(browser: Chromium, tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    page_file.write_text("<!DOCTYPE html><html><body><h1>截图</h1></body></html>", encoding="utf-8")
    shot = tmp_path / "shots" / "page.png"
    with browser.open(page_file, screenshot=shot) as page:
        assert page.is_visible("h1")
        assert not page.exists("h2")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_harness_refuses_to_open_a_remote_page(browser: Chromium) -> None:
    with pytest.raises(ValueError, match="local pages only"), browser.open("https://example.com/"):
        pass
