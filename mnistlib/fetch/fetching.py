"""The fetch itself: check the files in place, then try the sources in order until every file
verifies, keep a copy in the per-user cache, and remove torchvision's old files that would be loaded
instead; every failure to write ends it with one `FetchError` that says what to do."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mnistlib.fetch.files import SHA256, Rejected, check_files, install, problem
from mnistlib.fetch.leftovers import cleanup_on_sigterm, remove_leftovers, temp_places
from mnistlib.fetch.places import (
    ELSEWHERE,
    Unwritable,
    cache_folder,
    check_writable,
    describe,
    make_folder,
    raw_folder,
)
from mnistlib.fetch.sources import Source, default_sources
from mnistlib.fetch.temporary import scratch_dir

# torchvision.datasets.MNIST loads these from MNIST/processed/, when both exist, instead of raw/.
LEGACY_FILES = ("training.pt", "test.pt")


class FetchError(RuntimeError):
    """Raised when no source could provide verified MNIST files."""


def fetch(
    root: str | os.PathLike,
    from_dir: str | os.PathLike | None = None,
    sources: list[tuple[str, Source]] | None = None,
    log: Callable[[str], object] = print,
) -> Path:
    """Make sure the four verified IDX files are in `raw_folder(root)`; return that folder."""
    raw = raw_folder(root)
    places = temp_places(raw)
    with cleanup_on_sigterm(places):
        if doubts := remove_leftovers(places):
            log(
                "note: left alone, as not known to be leftovers of a fetch that ended: "
                + "; ".join(doubts)
            )
        try:
            make_folder(raw)
            missing = needed(raw, log)
            if missing:
                check_writable(raw)
                fill(raw, missing, default_sources(from_dir) if sources is None else sources, log)
                save_to_cache(raw, log)
            remove_legacy(raw, log)
        except Unwritable as exc:
            raise FetchError(f"{exc}.\nWhat you can do: {exc.fix}.") from exc
    return raw


def needed(raw: Path, log: Callable[[str], object]) -> list[str]:
    """The names to fetch into `raw`, each corrupt or unreadable one named in the log."""
    problems = check_files(raw)
    for name, why in problems.items():
        if why != "missing":
            log(f"{raw / name} is {why}; replacing it")
    return list(problems)


def fill(
    raw: Path, missing: list[str], sources: list[tuple[str, Source]], log: Callable[[str], object]
) -> None:
    """Install the `missing` files from the first sources that have them, or raise FetchError."""
    tried = []
    for label, source in sources:
        missing, why = try_source(label, source, raw, missing, log)
        if not missing:
            return
        tried.append(f"{label}: {why}")
    raise FetchError(
        f"could not get verified MNIST files {', '.join(missing)} into {raw}.\n"
        "Sources tried:\n  - " + "\n  - ".join(tried) + "\n"
        "What you can do: copy the four IDX files (raw or .gz) into a folder and run "
        "`python -m mnistlib.fetch --from FOLDER`, or set MNISTLIB_DATA_FROM=FOLDER; "
        "or connect to the internet and run it again."
    )


def try_source(
    label: str, source: Source, raw: Path, missing: list[str], log: Callable[[str], object]
) -> tuple[list[str], str]:
    """Install what `source` has of `missing` into `raw`: the names still missing, and why."""
    log(f"trying {label}")
    rejected: dict[str, list[str]] = {}
    with scratch_dir() as scratch:
        try:
            candidates = source(missing, scratch)
        except Exception as exc:  # noqa: BLE001 - any failure of a source is reported
            why = f"{type(exc).__name__}: {exc}"
            log(f"  skipped: {why}")
            return missing, why
        for name, path in candidates:
            if name not in missing:
                continue
            try:
                install(path, raw / name)
            except Rejected as exc:
                log(f"  rejected {path.name} from {label}: {exc}")
                rejected.setdefault(name, []).append(f"{path.name} ({exc})")
                continue
            log(f"{name}: verified, from {label}")
            missing = [n for n in missing if n != name]
    bad = [why for name in missing for why in rejected.get(name, [])]
    absent = [name for name in missing if name not in rejected]
    why = [f"did not verify: {', '.join(bad)}"] if bad else []
    why += [f"did not have: {', '.join(absent)}"] if absent else []
    return missing, "; ".join(why)


def save_to_cache(raw: Path, log: Callable[[str], object]) -> None:
    """Copy the verified files of `raw` to the per-user cache where it lacks them; a note if not."""
    try:
        cache = cache_folder()
        make_folder(cache)
        for name in SHA256:
            if problem(cache / name):
                install(raw / name, cache / name)
    except (LookupError, Unwritable) as exc:
        log(f"note: no copy kept in the per-user cache: {exc}")


def remove_legacy(raw: Path, log: Callable[[str], object]) -> None:
    """Remove torchvision's old MNIST/processed/*.pt, which it would load instead of `raw`."""
    for path in (raw.parent / "processed" / name for name in LEGACY_FILES):
        if not path.is_file():
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise Unwritable(
                f"cannot remove {path} ({describe(exc)}), an old torchvision file that it would "
                f"load instead of the verified files in {raw}",
                f"remove it, or {ELSEWHERE}",
            ) from exc
        log(f"removed {path}: torchvision would have loaded it instead of the verified files")
