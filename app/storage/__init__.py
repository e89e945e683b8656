"""SQLite library and atomic files (profiles, samples, generations)."""
