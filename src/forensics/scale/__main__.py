"""``python -m forensics.scale prepare CASE DIR | count DIR``: see
:func:`forensics.scale.core.main`."""

from .core import main

raise SystemExit(main())
