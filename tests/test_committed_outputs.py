"""What a grader reads: committed notebook outputs and results carry no machine paths, cache file names,
hashes, warnings, timings or repeated banners, and every code cell ran without error."""

import json
import re
from pathlib import Path

import pytest

from cnnlab import config, results

NOTEBOOKS = sorted((config.ROOT / "notebooks").glob("*.ipynb"))
RESULTS = sorted((config.ROOT / "results").glob("*.json"))

FORBIDDEN = {
    "absolute path": re.compile(r"(?<![\w.])/(work|home|tmp|root|Users|usr|opt|var|mnt)/[\w.-]+"),
    "cache file name": re.compile(r"[\w.-]+\.(weights\.h5|history\.json|npz)\b"),
    "hash-named file": re.compile(r"-[0-9a-f]{12}\b"),
    "warning": re.compile(r"\b\w*Warning\b|\bWARNING\b|warnings\.warn"),
    "download line": re.compile(r"Downloading data from"),
    "kernel start-up line": re.compile(r"Kernel is running over TCP|oneDNN custom operations|cpu_feature_guard"),
}
TIMING_KEYS = results.TIMING_KEY


def outputs(cell) -> str:
    texts = []
    for out in cell.get("outputs", []):
        texts.append("".join(out.get("text", "")))
        texts.append("".join(out.get("data", {}).get("text/plain", "")))
        texts.append("".join(out.get("data", {}).get("text/markdown", "")))
    return "\n".join(texts)


def timing_keys(obj, where: str) -> list[str]:
    if not isinstance(obj, dict):
        return []
    return [f"{where}.{k}" for k in obj if TIMING_KEYS.search(k)] + \
        [found for k, v in obj.items() for found in timing_keys(v, f"{where}.{k}")]


def problems_in(text: str) -> list[str]:
    return [f"{kind}: {m.group(0)!r}" for kind, pattern in FORBIDDEN.items() if (m := pattern.search(text))]


def test_the_patterns_catch_what_they_are_for():
    assert problems_in("loaded /work/main/weights/A1_cnn-5ba394400f6c.weights.h5") == [
        "absolute path: '/work/main'", "cache file name: 'A1_cnn-5ba394400f6c.weights.h5'", "hash-named file: '-5ba394400f6c'"]
    assert problems_in(".venv/lib/sklearn/base.py:12: UserWarning: X has feature names")[0].startswith("warning")
    assert problems_in("A3_cnn: loaded (trained earlier)\ntest accuracy 0.9931, 1/2 of the digits") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_outputs_are_clean(path: Path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert [i for i, c in enumerate(code) if c.get("execution_count") is None] == [], "code cells never executed"
    errors = [i for i, c in enumerate(code) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == [], "error outputs"
    assert [i for i, c in enumerate(nb["cells"]) if "execution" in c.get("metadata", {})] == [], "execution timestamps"
    found = [f"cell {i}: {p}" for i, c in enumerate(nb["cells"]) for p in problems_in(outputs(c))]
    assert found == []
    banners = sum(outputs(c).count("STAND-IN DATA") for c in nb["cells"])
    assert banners <= 1, f"the stand-in banner is printed {banners} times"


@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_committed_results_are_clean(path: Path):
    text = path.read_text()
    assert problems_in(text) == []
    record = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert timing_keys(record, path.stem) == [], "timings belong in benchmarks/notebook_times.md"
    assert record["mode"] == "full"


def test_summary_and_readme_are_clean():
    for path in (config.ROOT / "results" / "SUMMARY.md", config.ROOT / "README.md"):
        text = path.read_text()
        found = [p for p in problems_in(text) if not p.startswith(("cache file name", "warning"))]  # prose may name files
        assert found == [], path.name
