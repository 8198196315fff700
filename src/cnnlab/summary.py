"""Collect the headline numbers of every ``results/<notebook>.json`` into one table.

    python -m cnnlab.summary          # writes results/SUMMARY.md and the table in README.md

Two tables: the numbers a sheet states itself (parameter counts), each checked against what the
notebook measured, and a plain results table, one row per sheet item, with stand-in data named
in the row. The README's tables sit between two marker comments and are regenerated, never
edited by hand. Results are read from ``results/`` and, for notebooks executed from a read-only
checkout, from its user-cache copy (the newer file wins).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cnnlab import config
from cnnlab.fileio import write_text_atomic

START, END = "<!-- results:start -->", "<!-- results:end -->"

SHEET_NUMBERS = [
    # (notebook, sheet item, metric path in the results JSON, the number the sheet states)
    ("B1_cnn_architecture_studies", "B1.1 free parameters of the tutorial network ('same' padding)", "answers.params_manual",
     3_274_634),
    ("B_theory", "B theory 4.1 conv layer, 96 filters 5x5 on RGB", "metrics.4_parameters.conv_96_5x5_rgb", 7_296),
    ("B_theory", "B theory 4.2 dense layer on 4x4x256", "metrics.4_parameters.dense_4x4x256", 16_781_312),
    ("D1_fc_vs_cnn_mnist4000", "D1.a dense network parameters", "metrics.fc.params", 420_260),
    ("D1_fc_vs_cnn_mnist4000", "D1.c cnn2 parameters", "metrics.cnn2.params", 695_970),
    ("D2_vgg16_transfer_faces", "D2.b the sheet's head on 4,096 fc1 features", "answers.sheet_head_params", 1_805_608),
]

RESULTS = [
    # (notebook, sheet item, metric path in the results JSON)
    ("A1_translated_mnist", "A1.2 dense network, translated digits: test accuracy", "metrics.dense.test_accuracy"),
    ("A1_translated_mnist", "A1.3 first CNN, translated digits: test accuracy, mean of 3 seeds", "metrics.cnn_seeds.test_accuracy"),
    ("A1_translated_mnist", "A1.4 final model (chosen on validation: average of 3 CNNs), translated digits: test accuracy",
     "answers.best_test_accuracy"),
    ("A2_network_analysis", "A2 lecture CNN (Keras CIFAR-10 example, on JPEG copies of CIFAR-10): test accuracy",
     "metrics.lecture_cnn.test_accuracy"),
    ("A2_network_analysis", "A2.1 misclassified test images", "answers.misclassified_count"),
    ("A3_rotated_mnist", "A3.3 dense 100, rotated MNIST: test accuracy (mean of 3 seeds)", "metrics.dense100.test_accuracy"),
    ("A3_rotated_mnist", "A3.5 P4Dense (same hidden weights): test accuracy (mean of 3 seeds)", "metrics.p4_dense.test_accuracy"),
    ("A3_rotated_mnist", "A3.4 P4Dense layer vs explicit matrix: max abs error", "answers.matmul_max_abs_error"),
    ("A3_rotated_mnist", "P4-CNN, rotated MNIST: test accuracy (mean of 3 seeds)", "metrics.p4cnn.test_accuracy"),
    ("A3_rotated_mnist", "plain CNN, same parameter budget: test accuracy (mean of 3 seeds)", "metrics.cnn.test_accuracy"),
    ("A3_rotated_mnist", "P4-CNN rotation invariance: max abs error", "answers.invariance_max_abs_error"),
    ("B1_cnn_architecture_studies", "B1.1 free parameters with Keras' default 'valid' padding", "answers.params_valid_padding"),
    ("B1_cnn_architecture_studies", "B1.2 original network, 20,000 iterations: test accuracy", "metrics.original.test_accuracy"),
    ("B1_cnn_architecture_studies", "B1 (2) linear network, same training: test accuracy", "metrics.linear.test_accuracy"),
    ("B3_shallow_deep_overfitting", "B3.1 smallest shallow CNN found (validation >= 95%): parameters", "metrics.shallow_min.params"),
    ("B3_shallow_deep_overfitting", "B3.1 that shallow CNN: test accuracy, mean of 3 seeds", "metrics.shallow_min.test_accuracy_mean"),
    ("B3_shallow_deep_overfitting", "B3.2 smallest deep CNN found (validation >= 95%): parameters", "metrics.deep_min.params"),
    ("B3_shallow_deep_overfitting", "B3.2 that deep CNN: test accuracy, mean of 3 seeds", "metrics.deep_min.test_accuracy_mean"),
    ("B3_shallow_deep_overfitting", "B4.1 full set, no dropout, 20,000 iterations: test accuracy", "metrics.full_no_dropout.test_accuracy"),
    ("B3_shallow_deep_overfitting", "B4.1 250 examples, no dropout: test accuracy, mean of 3 seeds",
     "metrics.small_no_dropout.test_accuracy_mean"),
    ("B3_shallow_deep_overfitting", "B4.1 250 examples, best smaller network: test accuracy, mean of 3 seeds",
     "metrics.small_best.test_accuracy_mean"),
    ("B3_shallow_deep_overfitting", "B4.1 250 examples, best dropout: test accuracy, mean of 3 seeds",
     "metrics.small_best_dropout.test_accuracy_mean"),
    ("B5_two_digit_sum", "B5.1 direct CNN: seen-pair sum accuracy (mean of 3 seeds)", "metrics.direct.sum_accuracy"),
    ("B5_two_digit_sum", "B5.2 per-digit CNN: seen-pair sum accuracy (mean of 3 seeds)", "metrics.per_digit.sum_accuracy"),
    ("B5_two_digit_sum", "B5.3 held-out pairs, direct CNN: sum accuracy", "metrics.direct.unseen_pairs_accuracy"),
    ("B5_two_digit_sum", "B5.3 held-out pairs, per-digit CNN: sum accuracy", "metrics.per_digit.unseen_pairs_accuracy"),
    ("C1_activation_depth_gradients", "C1.B 5-layer ReLU MLP: test accuracy, mean of 3 seeds", "metrics.5_relu.test_accuracy"),
    ("C1_activation_depth_gradients", "C1.B 40-layer sigmoid MLP: test accuracy, mean of 3 seeds", "metrics.40_sigmoid.test_accuracy"),
    ("C1_activation_depth_gradients", "C1.D 40-layer LeCun tanh: test accuracy, mean of 3 seeds", "metrics.40_lecun.test_accuracy"),
    ("C1_activation_depth_gradients", "C1.D 40-layer LeCun tanh: test accuracy, sd of 3 seeds", "metrics.40_lecun.test_accuracy_sd"),
    ("C1_activation_depth_gradients", "C1.D 40-layer tanh: test accuracy, mean of 3 seeds", "metrics.40_tanh.test_accuracy"),
    ("C1_activation_depth_gradients", "C1.D 40-layer tanh: test accuracy, sd of 3 seeds", "metrics.40_tanh.test_accuracy_sd"),
    ("C2_svhn", "C2.A sheet's CNN with early stopping, SVHN stand-in: test accuracy, mean of 3 seeds", "metrics.svhn_cnn.test_accuracy"),
    ("C3_handwritten_digit_classifier", "C3 final classifier (3-member ensemble): MNIST test accuracy",
     "metrics.final.mnist_test_accuracy"),
    ("C3_handwritten_digit_classifier", "C3 final classifier: unseen writers (scikit-learn digits) accuracy",
     "metrics.final.unseen_writers_accuracy"),
    ("D1_fc_vs_cnn_mnist4000", "D1.a dense network: validation accuracy, mean of 3 seeds", "metrics.fc.val_accuracy"),
    ("D1_fc_vs_cnn_mnist4000", "D1.b cnn1: validation accuracy, mean of 3 seeds", "metrics.cnn1.val_accuracy"),
    ("D1_fc_vs_cnn_mnist4000", "D1.c cnn2: test accuracy, mean of 3 seeds", "metrics.cnn2.test_accuracy"),
    ("D2_vgg16_transfer_faces", "D2 VGG16 features + head, 8 people: test accuracy, mean of 3 seeds", "metrics.vgg_head_8.test_accuracy"),
    ("D2_vgg16_transfer_faces", "D2 VGG16 features + head, 40 people: test accuracy, mean of 3 seeds", "metrics.vgg_head_40.test_accuracy"),
    ("D2_vgg16_transfer_faces", "D2 one photo per person, 40 people: test accuracy, mean of the 5 choices of the photo",
     "answers.one_shot_40_accuracy"),
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


def read_results(results_dir: Path) -> dict[str, dict]:
    """``{notebook: record}`` from ``results_dir`` and its user-cache copy (the newer file of a pair wins)."""
    files = {}
    for folder in config.cached_paths(results_dir):
        for path in Path(folder).glob("*.json"):
            if path.stem not in files or path.stat().st_mtime > files[path.stem].stat().st_mtime:
                files[path.stem] = path
    return {stem: json.loads(path.read_text()) for stem, path in sorted(files.items())}


def _where(record: dict) -> str:
    data = record.get("data", {})
    return f"stand-in: {data.get('source', '').split(' because ')[0]}" if data.get("stand_in") else ""  # what, not why


def sheet_rows(records: dict[str, dict]) -> list[dict]:
    """Numbers a sheet states, for notebooks that have results: item, sheet, measured, matches."""
    out = []
    for notebook, item, path, stated in SHEET_NUMBERS:
        if notebook in records:
            measured = lookup(records[notebook], path)
            out.append({"notebook": notebook, "item": item, "metric": path, "sheet": _show(stated),
                        "measured": _show(measured), "matches": "yes" if measured == stated else "**no**"})
    return out


def rows(records: dict[str, dict]) -> list[dict]:
    """One dict per result whose notebook has a results file: item, metric, measured, data, mode."""
    return [{"notebook": notebook, "item": item, "metric": path, "measured": _show(lookup(records[notebook], path)),
             "data": _where(records[notebook]), "stand_in": bool(records[notebook].get("data", {}).get("stand_in")),
             "mode": records[notebook].get("mode", "?")}
            for notebook, item, path in RESULTS if notebook in records]


def _link(notebook: str) -> str:
    return f"[{notebook}](notebooks/{notebook}.ipynb)"


def markdown(records: dict[str, dict]) -> str:
    """Both tables as markdown."""
    lines = ["Numbers the sheets state, checked against the notebooks:", "",
             "| notebook | sheet item | metric | sheet | measured | matches |", "|---|---|---|---|---|---|"]
    lines += [f"| {_link(r['notebook'])} | {r['item']} | `{r['metric']}` | {r['sheet']} | {r['measured']} | {r['matches']} |"
              for r in sheet_rows(records)]
    lines += ["", "Results:", "", "| notebook | sheet item | metric | measured | stand-in data |", "|---|---|---|---|---|"]
    result_rows = rows(records)
    lines += [f"| {_link(r['notebook'])} | {r['item']} | `{r['metric']}` | {r['measured']}"
              f"{' (stand-in)' if r['stand_in'] else ''} | {r['data']} |" for r in result_rows]
    modes = sorted({r["mode"] for r in result_rows})
    lines += ["", f"Mode of the recorded runs: {', '.join(modes) or 'none'}. Generated by `python -m cnnlab.summary` "
                  "from `results/*.json`."]
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
    table = markdown(read_results(config.ROOT / "results"))
    summary = config.writable_path(config.ROOT / "results" / "SUMMARY.md")
    write_text_atomic(summary, "# Results\n\n" + table.replace("](notebooks/", "](../notebooks/") + "\n")
    readme = config.ROOT / "README.md"
    if config.is_writable(readme.parent):
        update_readme(readme, table)
    else:
        print(f"README.md is read-only: the tables are in {summary}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
