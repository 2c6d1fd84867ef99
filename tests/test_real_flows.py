"""`metaflow-lsp check` over real flows nobody here wrote (the tutorials shipped in the Metaflow wheel) and over the
bundled example project: the findings are pinned, and each is one we would defend to the flow's author."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, TUTORIALS

# (file, line, code): why it is right
TUTORIAL_FINDINGS = {
    ("01-playlist/playlist.py", 4, "MF202"),  # script_path() is a helper: common.py
    ("01-playlist/playlist.py", 17, "MF204"),  # reads a CSV and Parameters, no way to run it small
    ("01-playlist/playlist.py", 48, "MF207"),  # hint: genre/recommendations first read after start
    ("02-statistics/stats.py", 4, "MF202"),
    ("02-statistics/stats.py", 17, "MF204"),  # a foreach over every genre, no test mode
    ("03-playlist-redux/playlist.py", 4, "MF204"),
    ("03-playlist-redux/playlist.py", 30, "MF207"),
    ("04-playlist-plus/playlist.py", 4, "MF202"),  # get_python_version()
    ("04-playlist-plus/playlist.py", 19, "MF204"),
    ("04-playlist-plus/playlist.py", 52, "MF207"),
}

EXAMPLE_FINDINGS = {
    ("flows/predict.py", 12, "MF204"),  # deliberate: no test mode
    ("flows/predict.py", 22, "MF208"),  # deliberate: TrainFlow's run loaded after start
    ("flows/train.py", 14, "MF202"),  # deliberate: summarize() belongs in common.py
    ("flows/train.py", 41, "MF201"),  # deliberate: the evaluate step is too long
}


def findings(folder) -> set[tuple[str, int, str]]:
    result = subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", "--format", "json", str(folder)],
                            capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    return {(str(Path(row["path"]).relative_to(folder)), row["line"], row["code"])
            for row in json.loads(result.stdout)}


def test_tutorial_flows():
    assert findings(TUTORIALS) == TUTORIAL_FINDINGS


def test_no_graph_or_runtime_errors_in_flows_that_run():
    """The tutorials run: nothing of MF0xx or MF1xx (what Metaflow itself would refuse) may be reported on them."""
    assert not {code for _, _, code in findings(TUTORIALS) if code.startswith(("MF0", "MF1"))}


def test_example_project():
    assert findings(ROOT / "examples") == EXAMPLE_FINDINGS
