"""The deploy suite's cases and dev platform (tests/deploy) on this verify's import path: the
scenario and the suite share one copy of the records and of the emulator's contents."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
sys.path.insert(0, str(REPO / "tests" / "deploy"))
