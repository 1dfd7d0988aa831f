"""``python -m yunzheng.exchange.spec write|check``.

* ``write``: regenerate ``data/OTIpcDef.proto`` and ``docs/exchange-interface.md`` from the spec.
* ``check``: exit 1 if either generated file is stale (also enforced by the tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .docs import DOCS_PATH, render_interface_markdown
from .loader import DATA_DIR
from .protobuf import PROTO_FILE_NAME, render_proto_file

PROTO_PATH = DATA_DIR / PROTO_FILE_NAME


def _targets() -> list[tuple[Path, str]]:
    return [(PROTO_PATH, render_proto_file()), (DOCS_PATH, render_interface_markdown())]


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "write":
        for path, text in _targets():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        return 0
    if command == "check":
        stale = [p for p, text in _targets() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for p in stale:
            print(f"stale: {p} (run python -m yunzheng.exchange.spec write)")
        return 1 if stale else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
