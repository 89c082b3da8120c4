"""`python bench/run.py [--scenario NAME ...] [--duration S] [--concurrency N ...] ...`

Runs from a clone without installing `bench/` itself: the repository root is put on the path
and `bench.harness` does the work. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import main as harness_main  # after the path is set

    return harness_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
