"""Write a reveal.js slide deck per notebook into build/slides/, and an HTML page per notebook into
build/pages/, with the committed outputs.

    python tools/build_slides.py notebooks/*.ipynb

The decks work offline once built: `jupyter nbconvert --to slides` points by default to reveal.js,
require.js, jQuery, MathJax and the widget renderer on CDNs, so this script fetches pinned copies of
those five npm packages once (`npm pack`, into build/slides/vendor/) and points the decks at them
with relative addresses. Open build/slides/NN_name.slides.html straight from disk (file://), or
copy the whole build/slides/ folder to the presenting machine. Images in the markdown are embedded.
Decks and pages give every figure the alt text its output carries (offline.html.j2); the browser
test audits the pages for accessibility.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
OUT = TOP / "build" / "slides"
PAGES = TOP / "build" / "pages"

# npm package -> (version, folder under vendor/). reveal.js 4 is the major version nbconvert's
# template is written for; html-manager 1.x renders the widget state of ipywidgets 8.
VENDOR = {
    "reveal.js": ("4.6.1", "reveal.js"),
    "requirejs": ("2.3.7", "requirejs"),
    "jquery": ("3.7.1", "jquery"),
    "mathjax": ("2.7.7", "mathjax"),
    "@jupyter-widgets/html-manager": ("1.0.15", "html-manager"),
}
OPTIONS = {
    "reveal_url_prefix": "vendor/reveal.js",
    "require_js_url": "vendor/requirejs/require.js",
    "jquery_url": "vendor/jquery/dist/jquery.min.js",
    "mathjax_url": "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "widget_renderer_url": "vendor/html-manager/dist/embed-amd.js",
    "reveal_width": "1200",  # room for a 100-character line of code beside its prompt
    "reveal_height": "900",  # 1200 × 900 is 1024 × 768 scaled: a slide that fits fills the screen
    "reveal_theme": "white",  # its font ships with reveal.js; "simple", the default, is on a CDN
    "reveal_scroll": "True",  # a slide taller than the screen scrolls instead of being cut
    "embed_images": "True",
}


def fetch_vendor(vendor: Path, packages: dict[str, tuple[str, str]] = VENDOR) -> None:
    """Put the pinned npm `packages` ({name: (version, folder)}) in `vendor/` unless the same
    versions are there already."""
    stamp = vendor / "versions.json"
    wanted = {name: version for name, (version, _) in packages.items()}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(
            f"npm (Node.js) is needed once, to fetch {', '.join(packages)}; install Node.js "
            "(https://nodejs.org, or `apt-get install npm`)"
        )
    shutil.rmtree(vendor, ignore_errors=True)
    vendor.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        specs = [f"{name}@{version}" for name, version in wanted.items()]
        print("fetching " + " ".join(specs) + " (npm pack)")
        names = subprocess.run(
            [npm, "pack", "--silent", *specs], cwd=tmp, check=True, capture_output=True, text=True
        ).stdout.split()
        for tarball, (_, folder) in zip(names, packages.values(), strict=True):
            with tarfile.open(Path(tmp) / tarball) as archive:
                archive.extractall(tmp, filter="data")
            shutil.move(Path(tmp) / "package", vendor / folder)
    # Not used by a deck: MathJax's unminified sources and tests, source maps (a third of the size).
    for unused in [vendor / "mathjax" / "unpacked", vendor / "mathjax" / "test"]:
        shutil.rmtree(unused, ignore_errors=True)  # in the package extracted just above
    for source_map in vendor.rglob("*.map"):
        source_map.unlink()
    stamp.write_text(json.dumps(wanted, indent=1) + "\n")


def convert(notebooks: list[Path], to: str, out: Path, options: Sequence[str] = ()) -> None:
    """Run nbconvert `--to` html or slides on `notebooks` with the offline template, into `out`."""
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", to, "--log-level=WARN",
         f"--template-file={HERE / 'offline.html.j2'}", f"--output-dir={out}",
         *options, *map(str, notebooks)],
        check=True,
    )  # fmt: skip


def build(notebooks: list[Path], out: Path = OUT, pages: Path = PAGES) -> list[Path]:
    """Convert `notebooks` to decks in `out` and to pages in `pages`; return the decks' paths."""
    fetch_vendor(out / "vendor")
    convert(notebooks, "slides", out, [f"--SlidesExporter.{k}={v}" for k, v in OPTIONS.items()])
    convert(notebooks, "html", pages, ["--HTMLExporter.embed_images=True"])
    decks = [out / f"{nb.stem}.slides.html" for nb in notebooks]
    for path in [*decks, pages]:
        print(f"wrote {path.relative_to(TOP) if path.is_relative_to(TOP) else path}")
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    build(args.notebooks, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
