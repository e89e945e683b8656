"""Library speed at scale: fills a fresh library with N generations, then times open, page and search.

Prints p50/p95 (ms) for listing a page and for searching, and the time to open the library.
Goals (issue 3): search p95 <= 20 ms, page p95 <= 10 ms, open <= 100 ms.

    python benchmarks/library.py [--json] [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = (
    "lighthouse harbour weather morning notebook storm ship keeper ferry bread river mill summer winter "
    "chapter letter garden window station music violin engine signal market village mountain forest"
).split()
QUERIES = ["light", "harbour storm", "keeper", "zebra", "notebook fer", '"', "NEAR(", "river mill summ"]


def fill(root: Path, rows: int) -> None:
    """Insert ``rows`` generations straight into SQLite (audio files are not needed to time queries)."""
    from app.storage.library import Library

    rng = random.Random(7)
    library = Library(root)
    batch = []
    for i in range(rows):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))) + "."
        day = 1 + i * 365 // rows
        batch.append(
            (
                text,
                "piper" if i % 3 else "kokoro",
                "joe" if i % 3 else "af_heart",
                3.0,
                22050,
                f"generations/x/{i}.wav",
                f"2026-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}T10:00:{i % 60:02d}",
            )
        )
    with library.db.atomic():
        library.db.conn.executemany(
            "INSERT INTO generations (text, engine, voice, duration, sample_rate, file, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
    library.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    from app.storage.library import HistoryFilter, Library

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        fill(root, args.rows)
        fill_s = time.perf_counter() - started

        opens = []
        for _ in range(10):
            t = time.perf_counter()
            Library(root).close()
            opens.append(time.perf_counter() - t)

        library = Library(root)
        pages, searches = [], []
        rng = random.Random(1)
        for i in range(200):
            t = time.perf_counter()
            library.history(page=1 + rng.randint(0, 50), page_size=50)
            pages.append(time.perf_counter() - t)
            filters = HistoryFilter(engine="kokoro") if i % 4 == 0 else None
            t = time.perf_counter()
            library.search(QUERIES[i % len(QUERIES)], filters, page_size=50)
            searches.append(time.perf_counter() - t)
        library.close()
        size_mb = sum(f.stat().st_size for f in root.iterdir() if f.is_file()) / 1e6

    result = {
        "rows": args.rows,
        "fill_s": round(fill_s, 2),
        "db_mb": round(size_mb, 1),
        "open": percentiles(opens),
        "page": percentiles(pages),
        "search": percentiles(searches),
        "goals": {"search_p95_ms": 20, "page_p95_ms": 10, "open_ms": 100},
        "cpu_count": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.rows} rows: open p50 {result['open']['p50_ms']} ms, "
            f"page p95 {result['page']['p95_ms']} ms, "
            f"search p95 {result['search']['p95_ms']} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
