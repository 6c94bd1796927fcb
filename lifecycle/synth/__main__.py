"""``python -m lifecycle.synth``."""

from lifecycle.synth.cli import main

raise SystemExit(main())
