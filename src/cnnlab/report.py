"""Write ``report/index.html``: every exported notebook in sheet order, then the results table.

    python -m cnnlab.report [--out report] [notebooks/*.ipynb]

Run by ``make report`` after nbconvert has exported each notebook to ``report/<stem>.html``. One
line per notebook: a link to its HTML export and its title (the first markdown heading); a
notebook without an export is listed unlinked. Below, ``results/SUMMARY.md``'s table (links
pointing at the exported notebooks). Nothing is executed.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

import mistune

from cnnlab import config
from cnnlab.fileio import write_text_atomic

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cnnlab report</title>
<style>
body {{ font-family: sans-serif; max-width: 70em; margin: 2em auto; line-height: 1.4; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }}
code {{ font-size: 0.9em; }}
</style>
</head>
<body>
<h1>cnnlab report</h1>
<h2>Notebooks</h2>
<ul>
{items}
</ul>
<h2>Headline results</h2>
{summary}
</body>
</html>
"""


def sheet_order(path: Path) -> tuple:
    """Sort key: sheet letter, then exercise number (numerically; unnumbered last), then name.

    ``A1 < A2 < A10 < B1 < B5 < B_theory < C1``.
    """
    stem = Path(path).stem
    found = re.match(r"([A-Za-z])(\d*)", stem)
    letter, number = (found.group(1).upper(), found.group(2)) if found else ("~", "")
    return letter, int(number) if number else float("inf"), stem


def notebook_title(path: Path) -> str:
    """The text of the first markdown heading in the notebook at ``path`` (its stem if there is none)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return Path(path).stem


def summary_html(summary: Path) -> str:
    """``results/SUMMARY.md`` as HTML without its title, notebook links pointing at ``<stem>.html``."""
    if not summary.is_file():
        return f"<p>No results summary yet ({html.escape(str(summary))} is missing; run <code>python -m cnnlab.summary</code>).</p>"
    text = summary.read_text(encoding="utf-8")
    text = re.sub(r"^# .*\n", "", text, count=1)
    text = re.sub(r"\]\((?:\.\./)?notebooks/([^)]+)\.ipynb\)", r"](\1.html)", text)
    return mistune.create_markdown(plugins=["table"])(text)


def index_html(notebooks: list[Path], out: Path, summary: Path) -> str:
    """The index page's HTML: one list item per notebook in :func:`sheet_order`, then the summary."""
    items = []
    for path in sorted(notebooks, key=sheet_order):
        stem, title = path.stem, html.escape(notebook_title(path))
        export = out / f"{stem}.html"
        name = f'<a href="{export.name}">{stem}</a>' if export.is_file() else f"{stem} (not exported)"
        items.append(f"<li>{name}: {title}</li>")
    return PAGE.format(items="\n".join(items), summary=summary_html(summary))


def write_index(notebooks: list[Path], out: Path, summary: Path) -> Path:
    """Write ``out/index.html`` atomically and return its path.

    notebooks: ``.ipynb`` files; out: the folder holding their HTML exports; summary: SUMMARY.md.
    """
    notebooks = [Path(p) for p in notebooks]
    wrong = [str(p) for p in notebooks if p.suffix != ".ipynb" or not p.is_file()]
    if not notebooks or wrong:
        raise ValueError(f"notebooks: expected existing .ipynb files, got {wrong or 'none'}")
    index = Path(out) / "index.html"
    write_text_atomic(index, index_html(notebooks, Path(out), Path(summary)))
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=config.ROOT / "report", help="folder of the HTML exports")
    parser.add_argument("--summary", type=Path, help="default: results/SUMMARY.md (or its copy written from a "
                                                     "read-only checkout, if newer)")
    args = parser.parse_args(argv)
    summary = args.summary or config.newest_copy(config.ROOT / "results" / "SUMMARY.md")
    notebooks = args.notebooks or sorted((config.ROOT / "notebooks").glob("*.ipynb"))
    print(f"wrote {write_index(notebooks, config.writable_dir(args.out), summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
