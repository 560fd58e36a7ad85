"""What `make docs` generates is current: the diagrams of docs/images/ are what the inventories draw
now, docs/costs.md's summary is what the cost model computes now, and docs/SOLUTION.md's measured
figures are the committed copies of the project's outputs (docs/measurements/). A change to an
inventory, the price table, the drawing or a measurement that was not followed by `make docs` fails
here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [
    str(REPO / "tools"),
    str(REPO / "tools" / "diagrams"),
    str(REPO / "tools" / "costs"),
    str(REPO / "tools" / "measurements"),
]
import collect  # noqa: E402
import generate  # noqa: E402
import markdown_section  # noqa: E402
import report  # noqa: E402


def test_the_diagrams_are_drawn_from_the_inventories_as_they_are(tmp_path):
    drawn = generate.generate(tmp_path)
    committed = sorted(p.name for p in (REPO / "docs/images").glob("*.png"))
    assert committed == sorted(p.name for p in drawn), "docs/images/ holds other diagrams"
    stale = [
        p.name for p in drawn if p.read_bytes() != (REPO / "docs/images" / p.name).read_bytes()
    ]
    assert not stale, f"docs/images/{stale} differ from what the inventories draw: run make docs"


def test_the_cost_summary_is_the_model_s_output(tmp_path):
    copy = tmp_path / "costs.md"
    copy.write_text((REPO / "docs/costs.md").read_text())
    assert report.main(["--update", str(copy)]) == 0
    assert copy.read_text() == (REPO / "docs/costs.md").read_text(), (
        "docs/costs.md's summary is not what tools/costs computes: run make docs"
    )


def test_the_measured_figures_are_the_committed_measurements():
    table = markdown_section.read(REPO / "docs/SOLUTION.md", collect.SECTION)
    assert table == collect.render(REPO / "docs/measurements"), (
        "docs/SOLUTION.md's measured figures differ from docs/measurements/: run make docs"
    )


def test_every_figure_the_solution_names_was_measured():
    """Image size, throughput against the baseline, RTO and RPO, alert delivery: each from a file
    of docs/measurements/ that names its source and time, none missing."""
    table = collect.render(REPO / "docs/measurements")
    assert "Not measured yet" not in table, table
    for name in collect.SOURCES:
        figures = json.loads((REPO / "docs/measurements" / f"{name}.json").read_text())
        assert figures["source"] and figures["measured_at"], name


def test_collect_copies_the_outputs_of_a_state_directory(tmp_path):
    state = tmp_path / "state"
    (state / "records").mkdir(parents=True)
    (state / "records/image.json").write_text(
        json.dumps({"image_id": "sha256:abc", "tag": "0f3e5b1", "revision": "0f3e5b1"})
    )
    (state / "image/artifacts/abc").mkdir(parents=True)
    (state / "image/artifacts/abc/checks.json").write_text(
        json.dumps({"size_bytes": 80594849, "user": "10001:10001"})
    )
    (state / "dr/drills").mkdir(parents=True)
    (state / "dr/drills/1.json").write_text(
        json.dumps(
            {
                "rto_seconds": 11.24,
                "rto_objective_seconds": 30,
                "rpo_seconds": 4.41,
                "rpo_objective_seconds": 10,
                "acknowledged_writes": 120,
                "lost_writes": 3,
                "data_as_found": True,
            }
        )
    )
    out = tmp_path / "measurements"
    assert collect.collect(state, out) == ["image", "drill"]
    table = collect.render(out)
    assert "| image size | 80.6 MB, running as 10001:10001 |" in table
    assert "| RTO (fire drill) | 11.24 s (objective 30 s) |" in table
    assert "Not measured yet: alerts, benchmark." in table
