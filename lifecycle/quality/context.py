"""The file-backed GX project behind the quality gate, and its Data Docs site.

One GX File Data Context lives under ``gx_root`` (``gx_root/gx``): created on
first use, reused afterwards. Its Data Docs site writes static HTML into the
folder the data stewards read; GX's default ``local_site`` is removed so that no
second copy of the pages accumulates inside the GX project.

PII: the result format :data:`SAFE_RESULT_FORMAT` is the only one the gate ever
uses. It keeps failing *values* out of validation results and Data Docs and
returns failing rows by ``row_id`` alone (measured on GX 1.24.1: 0 planted
values in result JSON or HTML). ``include_unexpected_rows`` must never be set:
it returns whole rows whatever else is excluded.

GX object lifecycle (GX 1.24): ``add_or_update`` exists for data sources,
suites, validation definitions and checkpoints; data assets and batch
definitions are get-or-add (``get_asset`` raises LookupError,
``get_batch_definition`` KeyError).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # before GX is imported

import great_expectations as gx
from great_expectations.data_context import FileDataContext, set_context
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

SITE_NAME = "lifecycle_quality"
DATASOURCE_NAME = "lifecycle_frames"
BATCH_DEFINITION_NAME = "whole_frame"
# The index lists the newest results only: GX reads every listed result file to
# build it, and results of large extracts carry their failing row ids.
DOCS_INDEX_LIMIT = 100

SAFE_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row_id"],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
}


def open_context(gx_root: Path, data_docs_dir: Path) -> FileDataContext:
    """Create or reuse the GX project under gx_root, with our Data Docs site in data_docs_dir."""
    gx_root.mkdir(parents=True, exist_ok=True)
    data_docs_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=gx_root)
    changed = False
    if _progress_bars_on(context.variables.progress_bars):
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        changed = True
    if context.variables.analytics_enabled is not False:
        context.variables.analytics_enabled = False
        changed = True
    if changed:
        context.variables.save()
    _ensure_docs_site(context, data_docs_dir)
    return context


def _progress_bars_on(setting: Any) -> bool:
    # A fresh context holds None, a ProgressBarsConfig once set, a plain dict once reloaded.
    if setting is None:
        return True
    return bool(setting.get("globally", True) if isinstance(setting, dict) else setting.globally)


def _ensure_docs_site(context: FileDataContext, data_docs_dir: Path) -> None:
    site_config: dict[str, Any] = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(data_docs_dir.resolve()),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": DOCS_INDEX_LIMIT,
        },
    }
    sites = context.list_data_docs_sites()
    if "local_site" in sites:
        context.delete_data_docs_site("local_site")
    if SITE_NAME not in sites:
        context.add_data_docs_site(site_name=SITE_NAME, site_config=site_config)  # type: ignore[arg-type]
    elif sites[SITE_NAME] != site_config:
        context.update_data_docs_site(site_name=SITE_NAME, site_config=site_config)  # type: ignore[arg-type]


def activate(context: FileDataContext) -> None:
    """Make this context GX's current one (GX resolves stored references through it)."""
    set_context(context)


def ensure_checkpoint(context: FileDataContext, suite: gx.ExpectationSuite, source: str) -> gx.Checkpoint:
    """The checkpoint validating an in-memory frame of ``source`` against ``suite``.

    The data source is shared, the data asset is named after the source; the
    validation definition and checkpoint are (re)written so that they always point
    at the suite as loaded now, with the safe result format.
    """
    try:
        datasource = context.data_sources.get(DATASOURCE_NAME)
    except LookupError:  # KeyError
        datasource = context.data_sources.add_pandas(name=DATASOURCE_NAME)
    try:
        asset = datasource.get_asset(source)
    except LookupError:
        asset = datasource.add_dataframe_asset(name=source)  # type: ignore[attr-defined]
    try:
        batch_definition = asset.get_batch_definition(BATCH_DEFINITION_NAME)
    except LookupError:  # KeyError
        batch_definition = asset.add_batch_definition_whole_dataframe(name=BATCH_DEFINITION_NAME)
    name = f"{source}__{suite.name}"
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[],  # Data Docs are built once per validate() call, not once per chunk
            result_format=SAFE_RESULT_FORMAT,
        )
    )


def run_identifier(run_name: str, run_time: datetime) -> gx.RunIdentifier:
    """GX's id of a run; results and Data Docs pages are filed under it."""
    return gx.RunIdentifier(run_name=run_name, run_time=run_time)


def docs_page(context: FileDataContext, resource_identifier: Any) -> Path | None:
    """The HTML page of one validation result on our site, if GX can name it."""
    urls = context.get_docs_sites_urls(resource_identifier=resource_identifier, site_name=SITE_NAME)
    return url_to_path(urls[0].get("site_url")) if urls else None


def build_pages(context: FileDataContext, suite_name: str, result_identifiers: list[Any]) -> None:
    """Render the pages of these validation results and their suite, and the site index.

    One build per validation, whatever the number of chunks: a build costs about a
    second of template rendering however few pages it writes.
    """
    identifiers = [*result_identifiers, ExpectationSuiteIdentifier(name=suite_name)]
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=identifiers, build_index=True)


def build_docs(context: FileDataContext) -> Path:
    """Rebuild our Data Docs site; return its index.html."""
    activate(context)
    context.build_data_docs(site_names=[SITE_NAME])
    page = docs_page(context, None)
    if page is None:
        raise RuntimeError("GX built the Data Docs site but did not say where its index is")
    return page


def url_to_path(url: str | None) -> Path | None:
    """A ``file://`` URL from GX as a local path; None for anything else."""
    if not url:
        return None
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None
