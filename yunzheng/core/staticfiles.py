"""Static files: hashed names, gzip and brotli copies, cached for a year — in `make run` too.

`CompressedManifestStaticFilesStorage` (WhiteNoise) writes ``name.<hash>.ext`` plus ``.gz`` and
``.br`` copies at collectstatic, and WhiteNoise serves a hashed name with
``Cache-Control: max-age=315360000, public, immutable`` and the compressed copy the browser asks
for. Django's manifest storage hands out the *unhashed* name whenever DEBUG is on, though, so
`make run` (DEBUG) served the 1 MB chart library uncompressed with ``max-age=0``. This storage
always hands out the hashed name, so every server started from `manage.py collectstatic` output
behaves like production. The test settings keep the plain storage and WhiteNoise's finders (no
collectstatic before tests).
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name: Any, force: bool = True) -> str:
        return super().url(name, force=force)
