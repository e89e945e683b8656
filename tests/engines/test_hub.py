"""The model manager against a loopback stand-in for Hugging Face: downloads with progress, cancel and
resume, broken connections, damaged files, servers that ignore Range, offline and HTTP errors; remove,
verify and import; and ``timbre models`` end to end."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from hub_server import REPO, FakeHub

from app.core.errors import CancelledError, TimbreError
from app.core.models import CancelToken
from app.engines import hub as hub_module
from app.engines.download import DownloadError
from app.engines.hub import Hub, LicenceNotAcceptedError, ModelSpec
from app.engines.hub_transfer import DownloadProgress

SELECTED = ("config.json", "model.bin", "voices/a.pt", "voices/b.pt")
"""What the spec's patterns pick from the fake repository (not README.md, not voices/nested/c.pt)."""

SPEC = ModelSpec(
    id="tiny",
    engine="test",
    repo=REPO,
    description="A tiny test model",
    files=("config.json", "model.bin", "voices/*.pt", "tokenizer.json"),
    required=("config.json", "model.bin"),
    size_bytes=850_000,
    licence="Apache License 2.0",
    licence_url="https://www.apache.org/licenses/LICENSE-2.0",
)
NON_COMMERCIAL = ModelSpec(
    **{**SPEC.__dict__, "id": "tiny-nc", "licence": "Test Non-Commercial Licence", "commercial_use": False}
)
CATALOG = {SPEC.id: SPEC, NON_COMMERCIAL.id: NON_COMMERCIAL}


@pytest.fixture
def fake(tmp_path: Path):
    folder = tmp_path / "repo"
    folder.mkdir()
    with FakeHub(folder) as server:
        yield server


@pytest.fixture
def hub(fake: FakeHub, tmp_path: Path) -> Hub:
    return Hub(tmp_path / "models", endpoint=fake.endpoint, catalog=CATALOG)


def _total(fake: FakeHub) -> int:
    return sum(len(fake.files[name]) for name in SELECTED)


def _cancel_during(hub: Hub, file: str, after: int) -> None:
    """Download, cancelling once ``after`` bytes of ``file`` have arrived."""
    token = CancelToken()
    first: dict[str, int] = {}

    def progress(event: DownloadProgress) -> None:
        if event.file == file:
            first.setdefault(file, event.done)
            if event.done - first[file] >= after:
                token.cancel()

    with pytest.raises(CancelledError):
        hub.download("tiny", progress=progress, cancel=token)


def _partial(hub: Hub, name: str) -> Path:
    return hub.staging("tiny") / (name + ".part")


def test_download_installs_checked_files_with_byte_progress(hub: Hub, fake: FakeHub):
    events: list[DownloadProgress] = []
    path = hub.download("tiny", progress=events.append)

    assert path == hub.path("tiny") and hub.is_installed("tiny")
    assert hub.require("tiny") == path
    for name in SELECTED:
        assert (path / name).read_bytes() == fake.files[name]
    assert not (path / "README.md").exists() and not (path / "voices" / "nested").exists()
    assert not hub.staging("tiny").exists()
    assert sorted(p.name for p in path.iterdir()) == sorted(
        [".timbre-model.json", "config.json", "model.bin", "voices"]
    )

    manifest = hub.manifest("tiny")
    assert manifest is not None and manifest.source == "download"
    for name in SELECTED:
        entry = manifest.files[name]
        assert entry == {
            "size": len(fake.files[name]),
            "sha256": hashlib.sha256(fake.files[name]).hexdigest(),
        }

    total = _total(fake)
    assert (
        len(events) > 10 and {e.total for e in events} == {total} and {e.model_id for e in events} == {"tiny"}
    )
    done = [e.done for e in events]
    assert all(b > a for a, b in zip(done[1:], done[2:], strict=False)) and done[-1] == total
    assert {e.file for e in events[1:]} == set(SELECTED)
    assert all(e.speed >= 0 for e in events) and events[-1].seconds_left in (None, 0.0)
    # The file list came in pages (Link headers), and the large files through the CDN redirect.
    assert len([s for s in fake.seen if "/api/models/" in s.path]) > 1
    assert len([s for s in fake.seen if s.path.startswith("/cdn/")]) == 3


def test_cancel_keeps_the_partial_file_and_the_next_download_resumes_with_range(hub: Hub, fake: FakeHub):
    fake.knobs.delay = 0.003  # slow enough that the server does not run far ahead of the cancel
    _cancel_during(hub, "model.bin", 150_000)

    part = _partial(hub, "model.bin")
    kept = part.stat().st_size
    assert 150_000 <= kept < len(fake.files["model.bin"])
    assert (hub.staging("tiny") / "config.json").is_file()
    assert not hub.is_installed("tiny")
    status = hub.status("tiny")
    assert status.state == "partial" and status.bytes_on_disk >= kept

    fake.knobs.delay = 0.0
    fake.seen.clear()
    resumed: list[DownloadProgress] = []
    hub.download("tiny", progress=resumed.append)

    assert hub.is_installed("tiny")
    assert (hub.path("tiny") / "model.bin").read_bytes() == fake.files["model.bin"]
    assert [s.range for s in fake.file_requests("model.bin")] == [f"bytes={kept}-", f"bytes={kept}-"]
    assert fake.file_requests("config.json") == []  # finished and checked before: not fetched again
    assert resumed[0].done == len(fake.files["config.json"]) + kept
    # One copy of the model crossed the wire in all, not one and a half.
    assert fake.bytes_sent < _total(fake) * 1.15


def test_a_dropped_connection_is_a_plain_error_and_the_download_then_resumes(hub: Hub, fake: FakeHub):
    fake.knobs.drop_after = 100_000
    with pytest.raises(DownloadError, match=r"broke off during model\.bin .*can be resumed"):
        hub.download("tiny")
    assert _partial(hub, "model.bin").stat().st_size == 100_000
    assert not hub.is_installed("tiny")

    fake.knobs.drop_after = None
    hub.download("tiny")
    assert fake.file_requests("model.bin")[-1].range == "bytes=100000-"
    assert (hub.path("tiny") / "model.bin").read_bytes() == fake.files["model.bin"]
    assert hub.verify("tiny").ok


@pytest.mark.parametrize("damaged", ["voices/a.pt", "config.json"])
def test_a_damaged_file_is_deleted_with_a_plain_error(hub: Hub, fake: FakeHub, damaged: str):
    fake.knobs.corrupt = {damaged}
    with pytest.raises(DownloadError, match=f"{damaged} from {REPO} arrived damaged"):
        hub.download("tiny")
    staging = hub.staging("tiny")
    assert not (staging / damaged).exists() and not (staging / (damaged + ".part")).exists()
    assert not hub.is_installed("tiny") and not hub.path("tiny").exists()

    fake.knobs.corrupt = set()
    fake.seen.clear()
    hub.download("tiny")
    assert hub.verify("tiny").ok
    fetched = {name for name in SELECTED if fake.file_requests(name)}
    before = SELECTED[: SELECTED.index(damaged)]
    assert fetched == set(SELECTED) - set(before)  # files checked before the damaged one were kept


def test_a_server_that_ignores_range_still_gives_a_correct_file(hub: Hub, fake: FakeHub):
    fake.knobs.delay = 0.003
    _cancel_during(hub, "model.bin", 100_000)

    fake.knobs.delay, fake.knobs.ignore_range = 0.0, True
    events: list[DownloadProgress] = []
    hub.download("tiny", progress=events.append)
    assert fake.file_requests("model.bin")[-1].range is not None  # asked for the rest, got the whole
    assert (hub.path("tiny") / "model.bin").read_bytes() == fake.files["model.bin"]
    assert events[-1].done == events[-1].total == _total(fake)
    assert hub.verify("tiny").ok


def test_one_download_at_a_time(hub: Hub, fake: FakeHub):
    fake.knobs.delay = 0.01
    token, errors = CancelToken(), []
    started = threading.Event()

    def first() -> None:
        try:
            hub.download("tiny", progress=lambda e: e.done > 20_000 and started.set(), cancel=token)
        except CancelledError as exc:
            errors.append(exc)

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert started.wait(10)
        with pytest.raises(DownloadError, match="already being downloaded"):
            hub.download("tiny")
        with pytest.raises(DownloadError, match="being downloaded right now"):
            hub.remove("tiny")
    finally:
        token.cancel()
        worker.join()
    assert len(errors) == 1 and hub.remove("tiny") > 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_is_a_plain_message(tmp_path: Path):
    hub = Hub(tmp_path / "models", endpoint=f"http://127.0.0.1:{_closed_port()}", catalog=CATALOG)
    with pytest.raises(DownloadError) as caught:
        hub.download("tiny")
    assert str(caught.value) == (
        "Could not reach Hugging Face (the connection was refused). "
        "Check the internet connection; the download can be resumed."
    )
    assert hub.status("tiny").state == "not installed" and not hub.staging("tiny").exists()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (404, "Hugging Face could not find the repository"),
        (403, "is gated. Accept its terms"),
        (401, "private, gated"),
    ],
)
def test_http_errors_are_plain_messages(hub: Hub, fake: FakeHub, code: int, words: str):
    fake.knobs.status = code
    with pytest.raises(DownloadError, match=words) as caught:
        hub.download("tiny")
    assert "HTTP" not in str(caught.value) and REPO in str(caught.value)
    assert not hub.is_installed("tiny")


def test_a_file_missing_upstream_is_a_plain_message(hub: Hub, fake: FakeHub):
    del fake.files["model.bin"]
    with pytest.raises(DownloadError, match=r"lacks model\.bin"):
        hub.download("tiny")


def test_remove_frees_the_bytes_of_an_install_and_of_a_partial_download(hub: Hub, fake: FakeHub):
    hub.download("tiny")
    on_disk = sum(p.stat().st_size for p in hub.path("tiny").rglob("*") if p.is_file())
    assert on_disk > _total(fake)
    assert hub.status("tiny").bytes_on_disk == on_disk
    assert hub.remove("tiny") == on_disk
    assert not hub.path("tiny").exists() and hub.status("tiny").state == "not installed"
    assert hub.remove("tiny") == 0

    fake.knobs.delay = 0.003
    _cancel_during(hub, "model.bin", 100_000)
    partial = hub.status("tiny").bytes_on_disk
    assert partial > 100_000
    assert hub.remove("tiny") >= partial
    assert not hub.staging("tiny").exists()


def test_verify_catches_missing_truncated_and_modified_files(hub: Hub, fake: FakeHub):
    root = hub.download("tiny")
    report = hub.verify("tiny")
    assert report.ok and report.checked == len(SELECTED)

    with open(root / "voices" / "a.pt", "r+b") as handle:
        handle.truncate(1000)
    modified = bytearray((root / "model.bin").read_bytes())
    modified[5000] ^= 0x01
    (root / "model.bin").write_bytes(bytes(modified))
    (root / "config.json").unlink()
    report = hub.verify("tiny")
    assert not report.ok
    assert (report.missing, report.wrong_size, report.wrong_sha256) == (
        ["config.json"],
        ["voices/a.pt"],
        ["model.bin"],
    )


def test_verify_of_an_import_checks_presence_and_size(hub: Hub, fake: FakeHub):
    root = hub.import_folder("tiny", fake.folder)
    manifest = hub.manifest("tiny")
    assert manifest is not None and manifest.source.startswith("import:")
    assert hub.is_installed("tiny") and hub.verify("tiny").ok
    assert (root / "voices" / "nested" / "c.pt").read_bytes() == fake.files["voices/nested/c.pt"]

    same_size = bytes(len(fake.files["model.bin"]))
    (root / "model.bin").write_bytes(same_size)
    assert hub.verify("tiny").ok  # no checksum was known for an imported file: size alone is checked
    (root / "model.bin").write_bytes(b"short")
    assert hub.verify("tiny").wrong_size == ["model.bin"]


def test_import_of_an_incomplete_folder_leaves_nothing(hub: Hub, fake: FakeHub, tmp_path: Path):
    (fake.folder / "model.bin").unlink()
    with pytest.raises(TimbreError, match=r"lacks model\.bin\. Nothing was imported"):
        hub.import_folder("tiny", fake.folder)
    assert not hub.folder.exists() or list(hub.folder.iterdir()) == []
    with pytest.raises(TimbreError, match="not installed"):
        hub.verify("tiny")


def test_a_restricted_licence_must_be_accepted_before_anything_is_fetched(hub: Hub, fake: FakeHub):
    asked: list[str] = []
    with pytest.raises(LicenceNotAcceptedError, match="may not be used for commercial purposes"):
        hub.download("tiny-nc", accept_licence=lambda spec: asked.append(spec.id) or False)
    assert asked == ["tiny-nc"] and fake.seen == [] and not hub.folder.exists()

    assert hub.download("tiny-nc", accept_licence=lambda spec: True) == hub.path("tiny-nc")
    assert hub.is_installed("tiny-nc") and hub.verify("tiny-nc").ok


def test_progress_line_reads_like_the_design():
    from app.cli_models import progress_line

    event = DownloadProgress("xtts-v2", "model.pth", 412_300_000, 1_870_000_000, 21_400_000.0, 68.0)
    assert progress_line(event) == "xtts-v2  412.3 MB of 1.87 GB · 21.4 MB/s · 68 s left"
    assert progress_line(DownloadProgress("k", "f", 0, 500_000, 0.0, None)) == "k  0 KB of 500 KB"


# ---- timbre models, end to end through app.cli.main ----------------------------------------------


@pytest.fixture
def cli(fake: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``cli("models", "list")`` -> (exit code, stdout, stderr), against the fake hub."""
    import app.cli
    from app.cli_models import add_models_parser

    for spec in CATALOG.values():
        monkeypatch.setitem(hub_module.CATALOG, spec.id, spec)
    monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "cli-models"))
    original = app.cli.build_parser

    def build_parser() -> argparse.ArgumentParser:
        # Until app/cli.py registers ``models`` itself; then this changes nothing.
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "models" not in sub.choices:
            add_models_parser(sub)
        return parser

    monkeypatch.setattr(app.cli, "build_parser", build_parser)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = app.cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_list_download_verify_remove(cli, fake: FakeHub):
    code, out, _ = cli("models", "list", "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert (
        code == 0 and rows["tiny"]["state"] == "not installed" and rows["tiny-nc"]["commercial_use"] is False
    )

    code, _, err = cli("models", "download", "tiny")
    assert code == 0, err
    assert "Apache License 2.0" in err and "tiny  " in err and " of " in err and "Installed tiny" in err

    code, out, _ = cli("models", "list")
    line = next(line for line in out.splitlines() if line.startswith("tiny "))
    assert "installed" in line and "not installed" not in line and "Apache" in line
    assert any("non-commercial" in line for line in out.splitlines() if line.startswith("tiny-nc"))

    assert cli("models", "verify", "tiny")[0] == 0
    root = Path(os.environ["TIMBRE_MODELS_DIR"]) / "tiny"
    (root / "voices" / "b.pt").write_bytes(b"x")
    code, out, err = cli("models", "verify", "tiny")
    assert code == 1 and "voices/b.pt: wrong size" in out and "damaged" in err

    code, _, err = cli("models", "remove", "tiny")
    assert code == 0 and "freed" in err and not root.exists()

    code, _, err = cli("models", "download", "tiyn")
    assert code == 1 and "Did you mean tiny" in err


def test_cli_licence_refusal_downloads_nothing(cli, fake: FakeHub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, _, err = cli("models", "download", "tiny-nc")
    assert code == 1 and "Download? [y/N]" in err and "Nothing was downloaded" in err
    assert "may not be used for commercial purposes" in err
    assert fake.seen == [] and not Path(os.environ["TIMBRE_MODELS_DIR"]).exists()

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli("models", "download", "tiny-nc")[0] == 1  # nobody to answer: no

    code, _, err = cli("models", "download", "tiny-nc", "--yes")
    assert code == 0 and "Download?" not in err and "Installed tiny-nc" in err


def test_cli_ctrl_c_cancels_cleanly_and_a_second_run_resumes(cli, fake: FakeHub):
    fake.knobs.delay = 0.01

    def interrupt() -> None:
        deadline = time.monotonic() + 20
        while fake.bytes_sent < len(fake.files["config.json"]) + 60_000 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does

    threading.Thread(target=interrupt, daemon=True).start()
    code, _, err = cli("models", "download", "tiny")
    assert code == 130 and "Download cancelled" in err, err
    assert "pick up where it stopped" in err
    staging = Path(os.environ["TIMBRE_MODELS_DIR"]) / ".tiny.partial"
    kept = (staging / "model.bin.part").stat().st_size
    assert kept > 0

    fake.knobs.delay = 0.0
    code, _, err = cli("models", "download", "tiny")
    assert code == 0, err
    assert fake.file_requests("model.bin")[-1].range == f"bytes={kept}-"


def test_cli_offline_and_import(cli, fake: FakeHub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    code, _, err = cli("models", "download", "tiny")
    assert code == 1 and err.strip().endswith(
        "Could not reach Hugging Face (the connection was refused). "
        "Check the internet connection; the download can be resumed."
    )

    code, _, err = cli("models", "import", "tiny", str(fake.folder))
    assert code == 0 and "Imported tiny" in err
    assert cli("models", "verify", "tiny")[0] == 0
