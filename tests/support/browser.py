"""Headless Chromium for tests: open a local page with the network shut, and say what it tried.

Usage::

    with chromium() as browser:
        with browser.open(path_or_url, screenshot=tmp_path / "page.png") as page:
            assert page.problems() == []          # blocked, failed, console errors, page errors
            assert page.is_visible("#chart-groups")
            assert "大众客户" in page.text("#chart-value-tiers")

What is allowed: ``file://`` URLs and ``http(s)://127.0.0.1`` (a test server);
``data:``, ``blob:`` and ``about:`` never touch the network. Every other request
is aborted before it leaves the browser and recorded in ``page.blocked``; as a
second fence the browser's resolver maps every host but 127.0.0.1 to "not
found", so a request the page router does not see (a prefetch, a browser
service) cannot reach the network either.

Recorded per page: every request URL, blocked requests, failed requests (a
network error, a missing local file, an HTTP status of 400 or more), console
messages of type ``error`` and uncaught page errors. A request is
recorded once: blocked, or failed with its HTTP status or network error. ``problems()`` lists them
all in words, for assertion messages.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``$LIFECYCLE_CHROMIUM``)
driven by Playwright's Python package; Playwright's own browser download is not
used (it needs network). Without a Chromium :class:`ChromiumMissing` is raised,
never a skip: a browser test that silently does not run proves nothing. The
flags keep Chromium from calling Google services (background networking,
component updates, sync, QUIC); Playwright starts each browser with a fresh
temporary profile (``--user-data-dir``) and removes it on close.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response, Route, sync_playwright

CHROMIUM_ENV = "LIFECYCLE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
ALLOWED_HOSTS = frozenset({"127.0.0.1"})
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
VIEWPORT = {"width": 1280, "height": 900}
INSTALL_HINT = "install it with `apt-get install -y chromium` (Debian) or set $LIFECYCLE_CHROMIUM to a Chromium binary"


class ChromiumMissing(RuntimeError):
    """No Chromium binary to run the browser tests with."""


def chromium_executable() -> Path:
    """The Chromium binary the tests use; raises ChromiumMissing if there is none."""
    configured = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    found = shutil.which(configured)
    if not found:
        raise ChromiumMissing(f"Chromium not found at {configured!r}: {INSTALL_HINT}")
    return Path(found)


def is_allowed(url: str) -> bool:
    """Whether a request to ``url`` may proceed: local schemes and 127.0.0.1 only."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname in ALLOWED_HOSTS


@dataclass
class PageLog:
    """What one page did while it was open."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every blocked or failed request, console error and page error, one line each."""
        return [
            *(f"blocked request: {url}" for url in self.blocked),
            *(f"failed request: {entry}" for entry in self.failed),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"page error: {text}" for text in self.page_errors),
        ]


class OpenPage:
    """A loaded page: its log, its DOM and a screenshot."""

    def __init__(self, page: Page, log: PageLog) -> None:
        self.page = page
        self.log = log

    @property
    def blocked(self) -> list[str]:
        return self.log.blocked

    @property
    def failed(self) -> list[str]:
        return self.log.failed

    @property
    def console_errors(self) -> list[str]:
        return self.log.console_errors

    @property
    def page_errors(self) -> list[str]:
        return self.log.page_errors

    def problems(self) -> list[str]:
        return self.log.problems()

    def exists(self, selector: str) -> bool:
        return self.page.locator(selector).count() > 0

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def is_visible(self, selector: str) -> bool:
        """Whether the first element matching ``selector`` is rendered with a non-empty box."""
        locator = self.page.locator(selector).first
        return locator.count() > 0 and locator.is_visible()

    def text(self, selector: str) -> str:
        """The rendered text of the first match (CSS-hidden text excluded); raises if nothing matches."""
        locator = self.page.locator(selector)
        if locator.count() == 0:
            raise AssertionError(f"no element matches {selector!r}")
        return locator.first.inner_text()

    def texts(self, selector: str) -> list[str]:
        """The text content of every match (SVG text included)."""
        return [t.strip() for t in self.page.locator(selector).all_text_contents()]

    def attribute(self, selector: str, name: str) -> str | None:
        return self.page.locator(selector).first.get_attribute(name)

    def box(self, selector: str) -> dict[str, float] | None:
        """The first match's bounding box in CSS pixels (None when not rendered)."""
        box = self.page.locator(selector).first.bounding_box()
        return None if box is None else {k: float(v) for k, v in box.items()}  # type: ignore[arg-type]

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


class Chromium:
    """One running browser; each :meth:`open` gets a fresh context (no shared cache or storage)."""

    def __init__(self, browser: PlaywrightBrowser) -> None:
        self._browser = browser

    @property
    def version(self) -> str:
        return self._browser.version

    @contextmanager
    def open(
        self, target: Path | str, *, screenshot: Path | None = None, timeout_ms: float = 15_000
    ) -> Iterator[OpenPage]:
        """Load ``target`` (a path or a file:// / 127.0.0.1 URL) and wait until its network is idle.

        The screenshot, if asked for, is taken once the page has loaded; the
        page stays open for DOM queries until the block ends.
        """
        url = target.resolve().as_uri() if isinstance(target, Path) else target
        if not is_allowed(url):
            raise ValueError(f"the harness opens local pages only, not {url!r}")
        log = PageLog()
        context = self._browser.new_context(viewport=VIEWPORT, service_workers="block")  # type: ignore[arg-type]
        try:
            context.route("**/*", lambda route: _route(route, log))
            page = context.new_page()
            _listen(page, log)
            page.goto(url, wait_until="load", timeout=timeout_ms)
            page.wait_for_load_state("networkidle", timeout=timeout_ms)
            opened = OpenPage(page, log)
            if screenshot is not None:
                opened.screenshot(screenshot)
            yield opened
        finally:
            context.close()


def _route(route: Route, log: PageLog) -> None:
    url = route.request.url
    if is_allowed(url):
        route.continue_()
    else:
        log.blocked.append(url)
        route.abort("blockedbyclient")


def _listen(page: Page, log: PageLog) -> None:
    # a URL is reported once: an HTTP error status first, else the network error (Chromium
    # aborts a script that came back 404, so both events fire for it)
    reported: set[str] = set()

    def on_request(request: Request) -> None:
        log.requests.append(request.url)

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.url not in reported:
            reported.add(response.url)
            log.failed.append(f"{response.url} (HTTP {response.status})")

    def on_failed(request: Request) -> None:
        if request.url not in reported and request.url not in log.blocked:  # a blocked one is recorded as such
            reported.add(request.url)
            log.failed.append(f"{request.url} ({request.failure or 'unknown error'})")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location
            log.console_errors.append(f"{message.text} [{where.get('url', '')}:{where.get('lineNumber', '')}]")

    def on_page_error(error: Error) -> None:
        log.page_errors.append(f"{error.name}: {error.message}")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)


@contextmanager
def chromium() -> Iterator[Chromium]:
    """Start headless Chromium for the block; raises ChromiumMissing if it is not installed."""
    executable = chromium_executable()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=list(CHROMIUM_FLAGS))
        try:
            yield Chromium(browser)
        finally:
            browser.close()
