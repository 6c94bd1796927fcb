"""Synthetic bank data: landing files with planted personas, duplicates and flaws.

``generate(SynthConfig(...))`` writes ``OUT/landing/YYYY-MM-DD/*.csv`` in the
formats of ``lifecycle/config/sources.yaml`` and ``OUT/truth/*`` (personas,
identities, flaws, manifest). See ``docs/landing-files.md``.
"""

from lifecycle.synth.config import FileSummary, GenerationSummary, SynthConfig
from lifecycle.synth.generate import generate

__all__ = ["FileSummary", "GenerationSummary", "SynthConfig", "generate"]
