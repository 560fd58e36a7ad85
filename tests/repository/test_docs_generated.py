"""What `make docs` generates is current: the diagrams of docs/images/ are what the inventories draw
now, and docs/costs.md's summary is what the cost model computes now. A change to an inventory, the
price table or the drawing that was not followed by `make docs` fails here."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tools" / "diagrams"), str(REPO / "tools" / "costs")]
import generate  # noqa: E402
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
