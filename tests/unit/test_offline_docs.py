"""Offline Data Docs: the vendored files are what the manifest says, and pages are rewritten exactly once."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from pathlib import Path

import pytest

from lifecycle.integration.quality.offline_docs import (
    ASSETS_DIR,
    CDN_ASSETS,
    SITE_LOGO,
    VENDORED_FILES,
    OfflineDocsError,
    external_references,
    make_site_offline,
    offline_text,
    references_in_site,
    vendored_bytes,
)

S3 = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com"
POPPER = "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
JQUERY = "https://code.jquery.com/jquery-3.7.1.min.js"
VEGA = "https://cdn.jsdelivr.net/npm/vega@5"
POPPER_SRI = "sha384-ApNbgh9B+Y1QKtv3Rn7W3mgPxhU9K/ScQsAP7hUibX39j7fakFPskvXusvfa0b4Q"
FONT_AWESOME = "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css"

PAGE = f"""<!DOCTYPE html><html><head>
<link rel="stylesheet" href="{FONT_AWESOME}">
<style>.navbar-brand a {{ background: url('{S3}/full_logo_dark.png') 0 0 no-repeat; }}</style>
<script src="{VEGA}"></script>
<script src="{JQUERY}"></script>
<script src="{POPPER}" integrity="{POPPER_SRI}" crossorigin="anonymous"></script>
<script src="https://example.org/keep.js" integrity="sha384-x" crossorigin="anonymous"></script>
</head><body>
<img class="NO-CACHE" src="{S3}/logo-long.png?d=20261201T212025.334201Z&amp;dataContextId=441399e4-ea83" alt="GX">
<a href="https://greatexpectations.io">Great Expectations</a>
</body></html>
"""


def _gx_templates() -> Path:
    spec = importlib.util.find_spec("great_expectations")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "render" / "view"


def _site(root: Path, pages: dict[str, str]) -> Path:
    (root / SITE_LOGO).parent.mkdir(parents=True)
    (root / SITE_LOGO).write_bytes(b"\x89PNG logo")
    for name, text in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _without_unknown_script(page: str) -> str:
    unknown = '<script src="https://example.org/keep.js" integrity="sha384-x" crossorigin="anonymous">'
    assert unknown in page
    return page.replace(unknown, "<script>")


# --- the vendored folder ------------------------------------------------------------------------


def test_the_folder_holds_exactly_the_manifest_files_with_their_hashes() -> None:
    on_disk = {p.relative_to(ASSETS_DIR).as_posix() for p in ASSETS_DIR.rglob("*") if p.is_file()}
    assert on_disk - {"README.md"} == set(VENDORED_FILES)
    for name, digest in VENDORED_FILES.items():
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_the_readme_lists_every_file_its_hash_and_the_total() -> None:
    readme = (ASSETS_DIR / "README.md").read_text(encoding="utf-8")
    for name, digest in VENDORED_FILES.items():
        assert re.search(rf"\| `{re.escape(name)}` \| [\d,]+ \| `{digest}` \|", readme), name
    assert f"{len(VENDORED_FILES)} files, {vendored_bytes():,} bytes" in readme


def test_every_package_keeps_its_licence() -> None:
    packages = {name.split("/", 1)[0] for name in VENDORED_FILES}
    for package in packages:
        assert any(name.startswith(f"{package}/LICENSE") for name in VENDORED_FILES), package


def test_every_cdn_url_maps_to_a_vendored_file() -> None:
    assert set(CDN_ASSETS.values()) <= set(VENDORED_FILES)


def test_the_fonts_font_awesome_asks_a_woff2_browser_for_are_vendored() -> None:
    css = (ASSETS_DIR / "fontawesome-free@6.6.0/css/all.min.css").read_text(encoding="utf-8")
    woff2 = set(re.findall(r"url\(\.\./(webfonts/[^)]+\.woff2)\)", css))
    assert woff2 and {f"fontawesome-free@6.6.0/{font}" for font in woff2} <= set(VENDORED_FILES)


def test_vendored_files_match_the_integrity_hashes_gx_pins() -> None:
    imports = (_gx_templates() / "templates" / "js_script_imports.j2").read_text(encoding="utf-8")
    pins = re.findall(r'src="([^"]+)" integrity="(sha384-[^"]+)"', imports)
    assert len(pins) == 2  # Popper and Bootstrap's script
    for url, sri in pins:
        digest = hashlib.sha384((ASSETS_DIR / CDN_ASSETS[url]).read_bytes()).digest()
        assert sri == "sha384-" + base64.b64encode(digest).decode(), url


def test_every_remote_asset_in_gx_templates_is_handled() -> None:
    """Fails after a GX upgrade that loads something new: vendor it (see offline_assets/README.md)."""
    view = _gx_templates()
    texts = [p.read_text(encoding="utf-8") for p in sorted((view / "templates").glob("*.j2"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((view / "static").rglob("*.css"))]
    loaded = {url for text in texts for url in external_references(text)}
    loaded |= {url for text in texts for url in external_references(text, css=True)}
    assert loaded, "no remote asset found in GX's templates: has their layout changed?"
    assert loaded - set(CDN_ASSETS) == {f"{S3}/full_logo_dark.png"}  # the dark logo, rewritten to the local one
    navbar = (view / "templates" / "top_navbar.j2").read_text(encoding="utf-8")
    assert f'static_images_dir = "{S3}/"' in navbar and '"logo-long.png" | add_data_context_id_to_url' in navbar


# --- rewriting ----------------------------------------------------------------------------------


def test_a_page_points_at_local_copies_without_sri_or_remote_logo(tmp_path: Path) -> None:
    page = tmp_path / "validations" / "suite" / "run" / "20260630T000000Z" / "asset.html"
    text = offline_text(PAGE, page, tmp_path)
    up = "../../../../"
    assert f'<script src="{up}static/offline/jquery@3.7.1/dist/jquery.min.js"></script>' in text
    assert f'<script src="{up}static/offline/vega@5.33.1/build/vega.min.js"></script>' in text
    assert f'<script src="{up}static/offline/popper.js@1.12.9/dist/umd/popper.min.js"></script>' in text
    assert f'href="{up}static/offline/fontawesome-free@6.6.0/css/all.min.css"' in text
    assert f'src="{up}static/images/logo-long.png" alt="GX"' in text
    assert f"url('{up}static/images/logo-long.png')" in text
    assert "dataContextId" not in text and "amazonaws" not in text
    # a remote script keeps its integrity check (and is reported, below)
    assert '<script src="https://example.org/keep.js" integrity="sha384-x" crossorigin="anonymous">' in text
    assert external_references(text) == ["https://example.org/keep.js"]
    assert '<a href="https://greatexpectations.io">' in text  # a link to click, not a fetch


def test_rewriting_twice_changes_nothing_more(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    once = offline_text(PAGE, page, tmp_path)
    assert offline_text(once, page, tmp_path) == once
    assert 'src="static/offline/jquery@3.7.1/dist/jquery.min.js"' in once


def test_a_url_that_only_starts_like_a_known_one_is_not_rewritten(tmp_path: Path) -> None:
    text = f'<script src="{VEGA}.20.0/build/vega.js"></script>'
    assert offline_text(text, tmp_path / "index.html", tmp_path) == text


def test_external_references_are_what_a_page_would_fetch() -> None:
    html = """<html><head><link rel="stylesheet" href="//cdn.example/a.css">
    <style>@import "https://cdn.example/b.css"; .x { background: url(data:image/png;base64,AA) }</style></head>
    <body style="background: url('https://cdn.example/c.png')"><img srcset="local.png 1x, https://cdn.example/d.png 2x">
    <a href="https://example.org/">a link</a><script src="static/local.js"></script></body></html>"""
    assert external_references(html) == [
        "//cdn.example/a.css",
        "https://cdn.example/b.css",
        "https://cdn.example/c.png",
        "https://cdn.example/d.png",
    ]


# --- a whole site -------------------------------------------------------------------------------


def test_a_site_is_rewritten_and_its_assets_copied(tmp_path: Path) -> None:
    clean = _without_unknown_script(PAGE)
    css = f".a {{ background: url('{S3}/full_logo_dark.png') }}"
    site = _site(tmp_path, {"index.html": clean, "expectations/suite.html": clean, "static/styles/gx.css": css})
    result = make_site_offline(site)
    assert (result.files_checked, result.files_rewritten, result.assets_copied) == (3, 3, len(VENDORED_FILES))
    assert references_in_site(site) == {}
    assert "url('../images/logo-long.png')" in (site / "static/styles/gx.css").read_text(encoding="utf-8")
    for name, digest in VENDORED_FILES.items():
        assert hashlib.sha256((site / "static/offline" / name).read_bytes()).hexdigest() == digest

    again = make_site_offline(site)
    assert (again.files_rewritten, again.assets_copied) == (0, 0)


def test_a_partly_rewritten_site_is_finished(tmp_path: Path) -> None:
    clean = _without_unknown_script(PAGE)
    site = _site(tmp_path, {"index.html": clean, "expectations/suite.html": clean})
    make_site_offline(site)
    done = (site / "expectations/suite.html").read_bytes()
    (site / "index.html").write_text(clean, encoding="utf-8")  # a new build re-renders the index
    (site / "static/offline/jquery@3.7.1/dist/jquery.min.js").unlink()  # a copy lost
    (site / "static/offline/vega@5.33.1/build/vega.min.js").write_text("truncated")  # a copy cut short
    result = make_site_offline(site)
    assert (result.files_rewritten, result.assets_copied) == (1, 2)
    assert (site / "expectations/suite.html").read_bytes() == done
    assert references_in_site(site) == {}
    vega = (site / "static/offline/vega@5.33.1/build/vega.min.js").read_bytes()
    assert hashlib.sha256(vega).hexdigest() == VENDORED_FILES["vega@5.33.1/build/vega.min.js"]


def test_an_unknown_remote_asset_stops_the_rewrite_before_anything_is_written(tmp_path: Path) -> None:
    site = _site(tmp_path, {"index.html": PAGE})
    with pytest.raises(OfflineDocsError, match=r"index\.html: https://example\.org/keep\.js"):
        make_site_offline(site)
    assert (site / "index.html").read_text(encoding="utf-8") == PAGE
    assert not (site / "static/offline").exists()


def test_a_folder_that_is_not_a_gx_site_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OfflineDocsError, match="no index.html"):
        make_site_offline(tmp_path)
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    with pytest.raises(OfflineDocsError, match="logo-long.png is missing"):
        make_site_offline(tmp_path)
