"""Collect the headline numbers of every ``results/<notebook>.json`` into one table.

    python -m cnnlab.summary          # writes results/SUMMARY.md and the table in README.md

One row per sheet item: the metric, its target (the sheet's, or ours where the sheet has none),
the measured value and whether it is met; stand-in data sources are flagged. The README's table
sits between two marker comments and is regenerated, never edited by hand.
"""

from __future__ import annotations

import json
import operator
import sys
from pathlib import Path

from cnnlab import config
from cnnlab.fileio import write_text_atomic

START, END = "<!-- results:start -->", "<!-- results:end -->"
OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}

# (notebook, sheet item, metric path in the results JSON, comparison, target: number, path or None)
TARGETS = [
    ("A1_translated_mnist", "A1.2 dense network, translated digits", "metrics.dense.test_accuracy", None, None),
    ("A1_translated_mnist", "A1.3-1.4 best CNN, translated digits", "answers.best_test_accuracy", ">=", 0.99),
    ("A2_network_analysis", "A2 lecture CNN, MNIST test", "metrics.lecture_cnn.test_accuracy", None, None),
    ("A2_network_analysis", "A2.1 misclassified test images", "answers.misclassified_count", None, None),
    ("A3_rotated_mnist", "A3.3 dense 100, rotated MNIST", "metrics.dense100.test_accuracy", None, None),
    ("A3_rotated_mnist", "A3.5 P4Dense (same hidden weights) vs dense 100", "metrics.p4_dense.test_accuracy", ">=",
     "metrics.dense100.test_accuracy"),
    ("A3_rotated_mnist", "A3.4 layer == explicit matrix product", "answers.matmul_max_abs_error", "<=", 1e-5),
    ("A3_rotated_mnist", "P4-CNN vs CNN of similar size", "metrics.p4cnn.test_accuracy", ">=", "metrics.cnn.test_accuracy"),
    ("A3_rotated_mnist", "P4-CNN exact rotation invariance", "answers.invariance_max_abs_error", "<=", 1e-4),
    ("B1_cnn_architecture_studies", "B1.1 free parameters counted by hand", "answers.params_manual", "==", 3_274_634),
    ("B1_cnn_architecture_studies", "B1.2 original network, 20,000 iterations", "metrics.original.test_accuracy", ">=", 0.992),
    ("B1_cnn_architecture_studies", "B2 linear network, same training", "metrics.linear.test_accuracy", None, None),
    ("B1_cnn_architecture_studies", "B3.1 shallow CNN >= 95%: parameters", "metrics.shallow_min.params", "<=", 600),
    ("B1_cnn_architecture_studies", "B3.2 shrunk deep CNN >= 95%: parameters", "metrics.deep_min.params", "<=", 600),
    ("B1_cnn_architecture_studies", "B4.1 250 examples, best dropout vs none", "metrics.small_best_dropout.test_accuracy", ">=",
     "metrics.small_no_dropout.test_accuracy"),
    ("B5_two_digit_sum", "B5.2 per-digit CNN, sum accuracy", "metrics.per_digit.sum_accuracy", ">=", 0.985),
    ("B5_two_digit_sum", "B5.1 direct CNN, sum accuracy", "metrics.direct.sum_accuracy", ">=", 0.975),
    ("B5_two_digit_sum", "B5.3 held-out digit pairs: per digit vs direct", "metrics.per_digit.unseen_pairs_accuracy", ">=",
     "metrics.direct.unseen_pairs_accuracy"),
    ("B_theory", "B theory 4.1 conv parameters", "metrics.4_parameters.conv_96_5x5_rgb", "==", 7_296),
    ("B_theory", "B theory 4.2 dense parameters", "metrics.4_parameters.dense_4x4x256", "==", 16_781_312),
    ("C1_activation_depth_gradients", "C1.B 5-layer ReLU MLP, SGD 0.01", "metrics.5_relu.test_accuracy", None, None),
    ("C1_activation_depth_gradients", "C1.B 40-layer sigmoid MLP, SGD 0.01", "metrics.40_sigmoid.test_accuracy", None, None),
    ("C1_activation_depth_gradients", "C1.D 40-layer LeCun tanh vs tanh", "metrics.40_lecun.test_accuracy", ">=",
     "metrics.40_tanh.test_accuracy"),
    ("C2_svhn", "C2.A sheet's CNN with early stopping", "metrics.svhn_cnn.test_accuracy", None, None),
    ("C3_handwritten_digit_classifier", "C3 plain CNN, MNIST test", "metrics.plain.mnist_test_accuracy", None, None),
    ("C3_handwritten_digit_classifier", "C3 augmented CNN, MNIST test", "metrics.augmented.mnist_test_accuracy", ">=", 0.995),
    ("C3_handwritten_digit_classifier", "C3 augmented CNN, unseen writers (sklearn digits)",
     "metrics.augmented.unseen_writers_accuracy", ">=", "metrics.plain.unseen_writers_accuracy"),
    ("D1_fc_vs_cnn_mnist4000", "D1.a dense network size (sheet)", "metrics.fc.params", "==", 420_260),
    ("D1_fc_vs_cnn_mnist4000", "D1.b cnn1 validation accuracy", "metrics.cnn1.val_accuracy", ">=",
     "metrics.fc.val_accuracy"),
    ("D1_fc_vs_cnn_mnist4000", "D1.c cnn2 size (sheet)", "metrics.cnn2.params", "==", 695_970),
    ("D1_fc_vs_cnn_mnist4000", "D1.c cnn2 test accuracy", "metrics.cnn2.test_accuracy", None, None),
    ("D2_vgg16_transfer_faces", "D2 VGG16 head, 8 people", "metrics.vgg_head_8.test_accuracy", ">=", 0.95),
    ("D2_vgg16_transfer_faces", "D2 VGG16 head, 40 people", "metrics.vgg_head_40.test_accuracy", ">=", 0.90),
]


def lookup(record: dict, path: str):
    """``record["metrics"]["cnn"]["params"]`` for the path ``"metrics.cnn.params"``; None if absent."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.2e}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def rows(results_dir: Path) -> list[dict]:
    """One dict per target whose notebook has a results file: item, metric, target, measured, met."""
    out = []
    for notebook, item, path, op, target in TARGETS:
        file = Path(results_dir) / f"{notebook}.json"
        if not file.exists():
            continue
        record = json.loads(file.read_text())
        measured = lookup(record, path)
        goal = lookup(record, target) if isinstance(target, str) else target
        met = None if op is None or measured is None or goal is None else bool(OPS[op](measured, goal))
        label = "" if op is None else f"{op} {_show(goal)}" + (f" ({target.split('.')[1]})" if isinstance(target, str) else "")
        out.append({"notebook": notebook, "item": item, "metric": path, "target": label, "measured": _show(measured),
                    "met": {None: "", True: "yes", False: "**no**"}[met], "mode": record.get("mode", "?"),
                    "stand_in": record.get("data", {}).get("stand_in", False), "source": record.get("data", {}).get("source", "")})
    return out


def markdown(table_rows: list[dict]) -> str:
    """The summary table as markdown, with a line per stand-in data source."""
    lines = ["| notebook | sheet item | metric | target | measured | met |", "|---|---|---|---|---|---|"]
    for r in table_rows:
        link = f"[{r['notebook']}](notebooks/{r['notebook']}.ipynb)"
        lines.append(f"| {link} | {r['item']} | `{r['metric']}` | {r['target']} | {r['measured']} | {r['met']} |")
    modes = sorted({r["mode"] for r in table_rows})
    lines.append("")
    lines.append(f"Mode of the recorded runs: {', '.join(modes) or 'none'}. Generated by `python -m cnnlab.summary` "
                 "from `results/*.json`.")
    for notebook in sorted({r["notebook"] for r in table_rows if r["stand_in"]}):
        source = next(r["source"] for r in table_rows if r["notebook"] == notebook)
        lines.append(f"\n**Stand-in data** in {notebook}: {source}")
    return "\n".join(lines)


def update_readme(readme: Path, table: str) -> None:
    """Replace the text between the README's results markers with ``table``."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme}: expected the markers {START} and {END} around the results table")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    write_text_atomic(readme, f"{head}{START}\n{table}\n{END}{tail}")


def main() -> int:
    table = markdown(rows(config.ROOT / "results"))
    write_text_atomic(config.ROOT / "results" / "SUMMARY.md", "# Results\n\n" + table.replace("](notebooks/", "](../notebooks/") + "\n")
    update_readme(config.ROOT / "README.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
