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

Fixed cost per validation (measured on GX 1.24.1, 300-row frames of the 11
sources): a Data Docs build costs about a second whatever it renders (GX makes
a new Jinja environment per build and compiles every template again, then
rereads the newest results for the index), and ``Checkpoint.run`` rereads the
checkpoint, its validation definition and their suite from the project files to
check that they are fresh, a second time per run. Hence: validations are run
through the checkpoint's validation definition directly (:func:`run_validation`,
same result format, result stored and tagged with the checkpoint as before), and
Data Docs are rendered by :func:`build_docs`, once per run, for every stored
result that has no page yet.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # before GX is imported

import great_expectations as gx
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context import FileDataContext, set_context
from great_expectations.data_context.store import HtmlSiteStore
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

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
    at the suite as loaded now, with the safe result format. The checkpoint's
    ``add_or_update`` writes its validation definition (and that one its suite).
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
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)],
            actions=[],  # Data Docs are built once per run (build_docs), not per validation
            result_format=SAFE_RESULT_FORMAT,
        )
    )


def run_validation(
    checkpoint: gx.Checkpoint, frame: Any, run_id: gx.RunIdentifier
) -> tuple[ValidationResultIdentifier, ExpectationSuiteValidationResult]:
    """Validate ``frame`` as ``checkpoint.run`` would; the result is stored in the project.

    ``Checkpoint.run`` only adds, for a checkpoint without actions, a second
    freshness check that rereads the checkpoint from its file; the validation
    definition's own ``run`` still checks that it and its suite are fresh. The
    result format is the checkpoint's (the safe one) and the result is tagged
    with the checkpoint's id, as a checkpoint run tags it.
    """
    (definition,) = checkpoint.validation_definitions
    result = definition.run(
        checkpoint_id=checkpoint.id,
        batch_parameters={"dataframe": frame},
        result_format=checkpoint.result_format,
        run_id=run_id,
    )
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
        run_id=run_id,
        batch_identifier=result.batch_id,
    )
    return identifier, result


def run_identifier(run_name: str, run_time: datetime) -> gx.RunIdentifier:
    """GX's id of a run; results and Data Docs pages are filed under it."""
    return gx.RunIdentifier(run_name=run_name, run_time=run_time)


class DocsSite:
    """Where our Data Docs site keeps its pages, without building a GX site builder.

    ``context.get_docs_sites_urls`` instantiates the whole site builder (renderers,
    views, Jinja environments) on every call; the site's store alone answers where
    a page is and which pages exist.
    """

    def __init__(self, context: FileDataContext) -> None:
        config = context.variables.data_docs_sites or {}
        self._store = HtmlSiteStore(
            store_backend=dict(config[SITE_NAME]["store_backend"]),
            runtime_environment={"root_directory": context.root_directory},
        )

    def page(self, resource_identifier: Any) -> Path | None:
        """The page of a resource (the index for None), whether or not it is built yet."""
        return url_to_path(self._store.get_url_for_resource(resource_identifier, only_if_exists=False))

    def rendered_results(self) -> set[ValidationResultIdentifier]:
        """The validation results that have a page on the site (only the validations folder is listed)."""
        pages = self._store.store_backends[ValidationResultIdentifier].list_keys()
        return {ValidationResultIdentifier.from_tuple(key) for key in pages}


def build_docs(
    context: FileDataContext, site: DocsSite, suite_names: list[str], *, only_if_missing: bool = False
) -> Path:
    """Render every stored validation result without a page, the suites and the index.

    Incremental: results rendered by an earlier build keep their page (a result
    never changes once stored), so a run renders its own results however long the
    project's history, and a result left unrendered by an earlier process (one
    that failed before its run's report) is rendered by the next build. The
    suites are rendered each time: the reviewed files may have changed them.
    ``only_if_missing``: build nothing when every result has its page. Returns
    the site's index.html.
    """
    activate(context)
    rendered = site.rendered_results()
    missing = [key for key in context.validation_results_store.list_keys() if key not in rendered]
    index = site.page(None)
    if only_if_missing and not missing and index is not None and index.is_file():
        return index
    # results and suites in one list (GX's annotation says one kind or the other; its site
    # builder takes both); never empty: GX reads "no identifiers" as "build everything"
    identifiers: list[Any] = [*missing, *(ExpectationSuiteIdentifier(name=name) for name in suite_names)]
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=identifiers, build_index=True)
    if index is None or not index.is_file():
        raise RuntimeError("GX built the Data Docs site but did not say where its index is")
    return index


def url_to_path(url: str | None) -> Path | None:
    """A ``file://`` URL from GX as a local path; None for anything else."""
    if not url:
        return None
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None
