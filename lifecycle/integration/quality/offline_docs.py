"""Make a GX Data Docs site work offline: vendored assets instead of CDNs, no remote logo.

GX 1.24's page templates load Bootstrap, jQuery, Popper, bootstrap-table,
bootstrap-datepicker, bootstrap-dark, Font Awesome and Vega from five CDNs, and
every page shows a logo fetched from GX's S3 bucket with the data context id
and the build time in its query string (a beacon). Offline, the pages render
without layout, their tables stay empty and the browser logs a dozen errors;
on a bank's network the logo leaks the context id to a third party.

:func:`make_site_offline` rewrites a built site in place:

- each CDN URL in :data:`CDN_ASSETS` becomes a relative link to a copy in
  ``<site>/static/offline/`` (copied from ``lifecycle/integration/quality/offline_assets``,
  the npm packages' own files, byte-identical; versions, licences and sha256 in
  that folder's README and :mod:`lifecycle.integration.quality.offline_manifest`);
- the S3 logo (light, with its query string, and the dark-mode one in the
  inline and static CSS) becomes GX's own ``static/images/logo-long.png``, which
  every site build writes;
- ``integrity``/``crossorigin`` attributes are dropped from tags that now point
  at a local file: Chromium refuses subresource integrity and CORS for
  ``file://`` pages. Integrity is kept another way: every vendored file's
  sha256 is checked against :data:`VENDORED_FILES` before it is copied.

Idempotent: a page already rewritten has nothing left to replace, an asset
already in place with the right hash is not copied again, so running it over a
site that is partly rewritten (a new build re-renders the index and adds pages)
finishes the job. Links a reader may click (``<a href>`` to greatexpectations.io)
are not fetches and are left as they are.

Strict: after rewriting, every page is scanned for anything it would still
fetch from outside (:func:`external_references`: ``src``/``href`` of scripts,
styles, images, frames, and ``url()``/``@import`` in CSS). If anything remains
(a GX upgrade that added a CDN) :class:`OfflineDocsError` names the files and
URLs and nothing is written, so a half-offline site is never produced silently.
No GX import: this is text processing over files, fast and testable alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from lifecycle.errors import LifecycleError
from lifecycle.integration.quality.offline_manifest import CDN_ASSETS, VENDORED_FILES

ASSETS_DIR = Path(__file__).resolve().parent / "offline_assets"
SITE_ASSETS = Path("static") / "offline"
SITE_LOGO = Path("static") / "images" / "logo-long.png"

# GX's logos on S3: the light one carries ?d=<build time>&dataContextId=<id> (&amp; once escaped).
_REMOTE_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/(?:logo-long|full_logo_dark)\.png"
    r"(?:\?[^\"'\s)<>]*)?"
)
_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
_SRI_ATTRIBUTES = re.compile(r"\s+(?:integrity|crossorigin)(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?", re.IGNORECASE)
_TAG_TARGET = re.compile(r"\b(?:src|href)\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*[\"']?([^\"')\s]+)|@import\s+[\"']([^\"']+)", re.IGNORECASE)
_FETCHING_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
}


class OfflineDocsError(LifecycleError):
    """The Data Docs site cannot be made to work offline; the message names files and URLs."""


@dataclass(frozen=True)
class OfflineSite:
    """What :func:`make_site_offline` did: pages rewritten, files copied, bytes the site now vendors."""

    site_dir: Path
    files_checked: int
    files_rewritten: int
    assets_copied: int
    vendored_bytes: int


def vendored_bytes() -> int:
    """The size of the vendored assets, licences included (what each site gains)."""
    return sum((ASSETS_DIR / name).stat().st_size for name in VENDORED_FILES)


def make_site_offline(site_dir: Path) -> OfflineSite:
    """Rewrite the Data Docs site under ``site_dir`` to load nothing from outside it.

    Raises OfflineDocsError, before anything is written, when the site has no
    ``index.html`` or GX logo, when a vendored file does not match its sha256,
    or when a page would still fetch something from outside after rewriting.
    """
    site_dir = Path(site_dir).resolve()
    if not (site_dir / "index.html").is_file():
        raise OfflineDocsError(f"{site_dir}: no index.html, not a built Data Docs site")
    if not (site_dir / SITE_LOGO).is_file():
        raise OfflineDocsError(f"{site_dir}: GX's {SITE_LOGO.as_posix()} is missing (the site was not built by GX)")
    _check_vendored()
    files = _site_files(site_dir)
    rewritten = {path: offline_text(path.read_text(encoding="utf-8"), path, site_dir) for path in files}
    leftovers = [
        f"{path.relative_to(site_dir)}: {url}"
        for path, text in rewritten.items()
        for url in external_references(text, css=path.suffix == ".css")
    ]
    if leftovers:
        raise OfflineDocsError("Data Docs would still fetch from outside the site: " + "; ".join(leftovers))
    copied = _copy_assets(site_dir / SITE_ASSETS)
    changed = 0
    for path, text in rewritten.items():
        if text != path.read_text(encoding="utf-8"):
            _write_atomically(path, text.encode("utf-8"))
            changed += 1
    return OfflineSite(site_dir, len(files), changed, copied, vendored_bytes())


def offline_text(text: str, path: Path, site_dir: Path) -> str:
    """The text of one page or stylesheet at ``path`` with its remote assets pointed at the site's copies."""
    base = path.parent
    for url, vendored in CDN_ASSETS.items():
        if url in text:
            text = _replace_url(text, url, _relative(site_dir / SITE_ASSETS / vendored, base))
    text = _REMOTE_LOGO.sub(_relative(site_dir / SITE_LOGO, base), text)
    return _TAG.sub(_drop_sri_if_local, text) if path.suffix != ".css" else text


def _replace_url(text: str, url: str, local: str) -> str:
    # exact URL only: "vega@5" must not match the start of "vega@5.33.1" or of another URL
    return re.sub(re.escape(url) + r"(?=[\"'\s)>])", local, text)


def _relative(target: Path, base: Path) -> str:
    return Path(os.path.relpath(target, base)).as_posix()


def _drop_sri_if_local(match: re.Match[str]) -> str:
    tag = match.group(0)
    target = _TAG_TARGET.search(tag)
    if target is None or _is_external(target.group(1)):
        return tag
    return _SRI_ATTRIBUTES.sub("", tag)


def _is_external(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://", "//", "ws://", "wss://", "ftp://"))


class _Fetches(HTMLParser):
    """Collects what an HTML page would fetch by itself (not the links a reader may follow)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = _FETCHING_ATTRIBUTES.get(tag, ())
        for name, value in attrs:
            if value is None:
                continue
            if name in wanted:
                self.urls += _srcset_urls(value) if name == "srcset" else [value]
            elif name == "style":
                self.urls += _css_urls(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += _css_urls(data)


def _srcset_urls(srcset: str) -> list[str]:
    return [part.split()[0] for part in srcset.split(",") if part.strip()]


def _css_urls(css: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in _CSS_URL.finditer(css)]


def external_references(text: str, *, css: bool = False) -> list[str]:
    """The URLs outside the site that an HTML page (or a stylesheet, ``css=True``) would fetch."""
    if css:
        urls = _css_urls(text)
    else:
        parser = _Fetches()
        parser.feed(text)
        parser.close()
        urls = parser.urls
    return [url for url in urls if _is_external(url)]


def _site_files(site_dir: Path) -> list[Path]:
    """The site's pages and stylesheets, not the vendored copies."""
    own = site_dir / SITE_ASSETS
    return sorted(
        p for p in site_dir.rglob("*") if p.suffix in {".html", ".css"} and p.is_file() and own not in p.parents
    )


def _check_vendored() -> None:
    bad = [name for name, digest in VENDORED_FILES.items() if _sha256(ASSETS_DIR / name) != digest]
    if bad:
        raise OfflineDocsError(f"vendored Data Docs assets differ from their recorded sha256: {', '.join(bad)}")


def _copy_assets(target_dir: Path) -> int:
    copied = 0
    for name, digest in VENDORED_FILES.items():
        target = target_dir / name
        if target.is_file() and _sha256(target) == digest:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, (ASSETS_DIR / name).read_bytes())
        copied += 1
    return copied


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _write_atomically(path: Path, content: bytes) -> None:
    """Write via a temporary file and rename, so a reader or a crash never sees half a file."""
    temporary = path.with_name(f".{path.name}.offline-tmp")
    temporary.write_bytes(content)
    if path.exists():
        shutil.copymode(path, temporary)
    temporary.replace(path)


def references_in_site(site_dir: Path) -> dict[str, list[str]]:
    """Every external fetch left in a site, per file (relative path): empty once it is offline."""
    site_dir = Path(site_dir).resolve()
    found: dict[str, list[str]] = {}
    for path in _site_files(site_dir):
        urls = external_references(path.read_text(encoding="utf-8"), css=path.suffix == ".css")
        if urls:
            found[path.relative_to(site_dir).as_posix()] = urls
    return found
