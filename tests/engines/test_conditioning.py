"""The speaker-conditioning cache: keys that change with every input, memory LRU over safe npz files."""

from __future__ import annotations

import numpy as np
import pytest

from app.engines.conditioning import ConditioningCache, conditioning_key


def test_key_depends_on_every_input():
    base = conditioning_key("qwen3", "0.6B", ["aaa", "bbb"], ["hello", "world"])
    variants = [
        conditioning_key("xtts", "0.6B", ["aaa", "bbb"], ["hello", "world"]),
        conditioning_key("qwen3", "1.7B", ["aaa", "bbb"], ["hello", "world"]),
        conditioning_key("qwen3", "0.6B", ["aaa", "bbc"], ["hello", "world"]),
        conditioning_key("qwen3", "0.6B", ["bbb", "aaa"], ["hello", "world"]),
        conditioning_key("qwen3", "0.6B", ["aaa", "bbb"], ["hello", "world!"]),
        conditioning_key("qwen3", "0.6B", ["aaa"], ["bbb", "hello", "world"]),
    ]
    assert len({base, *variants}) == 7
    assert base == conditioning_key("qwen3", "0.6B", ["aaa", "bbb"], ["hello", "world"])


def test_round_trip_through_disk_and_lru(tmp_path):
    cache = ConditioningCache(tmp_path, capacity=2)
    arrays = {"prompt": np.arange(12, dtype=np.float32).reshape(3, 4), "codes": np.array([1, 2, 3])}
    assert not cache.is_cached("qwen3", "k1") and cache.get("qwen3", "k1") is None
    cache.put("qwen3", "k1", arrays)
    assert cache.is_cached("qwen3", "k1") and (tmp_path / "qwen3" / "k1.npz").is_file()
    fresh = ConditioningCache(tmp_path)  # a new process: read back from disk, no pickle involved
    loaded = fresh.get("qwen3", "k1")
    assert loaded is not None and set(loaded) == {"prompt", "codes"}
    np.testing.assert_array_equal(loaded["prompt"], arrays["prompt"])
    with np.load(tmp_path / "qwen3" / "k1.npz", allow_pickle=False) as npz:
        assert npz["codes"].dtype.kind == "i"
    cache.put("qwen3", "k2", arrays)
    cache.put("qwen3", "k3", arrays)
    assert len(cache._memory) == 2 and ("qwen3", "k1") not in cache._memory
    assert cache.get("qwen3", "k1") is not None, "evicted from memory, still on disk"
    assert [p.name for p in (tmp_path / "qwen3").iterdir() if p.name.startswith(".")] == []


def test_damaged_entries_are_dropped_and_names_are_checked(tmp_path):
    cache = ConditioningCache(tmp_path)
    (tmp_path / "xtts").mkdir()
    (tmp_path / "xtts" / "bad.npz").write_bytes(b"PK\x03\x04 definitely not an npz")
    assert cache.get("xtts", "bad") is None and not (tmp_path / "xtts" / "bad.npz").exists()
    for engine, key in (("../etc", "k"), ("xtts", "../../passwd"), ("XTTS", "k")):
        with pytest.raises(ValueError):
            cache.put(engine, key, {"a": np.zeros(1)})
