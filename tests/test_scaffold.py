"""`metaflow-lsp init` and `metaflow-lsp ci-workflow`, through the command line as users run them: the scaffold is
clean under `check`, its workflow runs `check` and every flow in test mode (train before predict), a second run
changes nothing, an existing folder keeps what it has; the generated flows and notebook run for real (slow)."""

from __future__ import annotations

import json
import re
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

SCAFFOLD = ["flows/common.py", "flows/train.py", "flows/predict.py", "flows/debug.ipynb", ".gitignore",
            "pyproject.toml", ".pre-commit-config.yaml", ".github/workflows/metaflow.yml"]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "METAFLOW_LSP_STRICT": "1"}, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()}


def workflow_steps(root: Path) -> list[dict]:
    workflow = yaml.safe_load((root / ".github/workflows/metaflow.yml").read_text(encoding="utf-8"))
    assert set(workflow.get("on", workflow.get(True))) == {"push", "pull_request"}  # YAML 1.1 reads `on` as True
    [job] = workflow["jobs"].values()
    return job["steps"]


def test_init_writes_the_guides_layout_clean_under_check(tmp_path):
    root = tmp_path / "churn"
    result = cli("init", str(root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:len(SCAFFOLD)] == [f"wrote {name}" for name in SCAFFOLD]
    assert "python train.py run --test_mode 1" in result.stdout.splitlines()[-1]
    assert sorted(snapshot(root)) == sorted(SCAFFOLD)
    train = (root / "flows/train.py").read_text(encoding="utf-8")
    assert "class ChurnTrainFlow(FlowSpec):" in train and 'Parameter("test_mode", type=bool' in train
    assert 'Flow("ChurnTrainFlow").latest_successful_run' in (root / "flows/predict.py").read_text(encoding="utf-8")
    assert "pypi" not in train  # Metaflow and the standard library only
    gitignore = (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {".metaflow/", ".metaflow_spin/"} <= set(gitignore)  # no leading slash: in every folder
    assert '[tool.metaflow-lsp]' in (root / "pyproject.toml").read_text(encoding="utf-8")
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert hooks["repos"][0]["hooks"][0]["entry"] == "metaflow-lsp check"
    notebook = json.loads((root / "flows/debug.ipynb").read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code[0] == "%load_ext autoreload\n%autoreload 2" and "import common" in code[1]
    assert 'Flow("ChurnTrainFlow").latest_run' in code[2]

    checked = cli("check", str(root))
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_the_scaffolds_workflow_checks_then_runs_train_before_predict_in_test_mode(tmp_path):
    root = tmp_path / "proj"
    assert cli("init", str(root), "--name", "sales-model").returncode == 0
    steps = workflow_steps(root)
    runs = [step.get("run", "") for step in steps]
    assert "metaflow-lsp check --format github ." in runs
    flows = [step for step in steps if "in test mode" in step.get("name", "")]
    assert [(step["name"], step["working-directory"], step["run"]) for step in flows] == [
        ("SalesModelTrainFlow in test mode", "flows", "python train.py --no-pylint run --test_mode 1"),
        ("SalesModelPredictFlow in test mode", "flows", "python predict.py --no-pylint run --test_mode 1"),
    ]
    assert runs.index("metaflow-lsp check --format github .") < steps.index(flows[0])


def test_the_next_step_init_suggests_pastes_into_a_shell_for_a_folder_with_a_space(tmp_path):
    root = tmp_path / "my project"
    result = cli("init", str(root), "--name", "demo")
    assert result.returncode == 0, result.stderr
    suggestion = result.stdout.splitlines()[-1]
    assert suggestion.startswith("next: cd ") and suggestion.endswith(" && python train.py run --test_mode 1")
    cd = suggestion.removeprefix("next: ").split(" && ")[0]
    shell = subprocess.run(["bash", "-c", f"{cd} && pwd -P"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert shell.stdout.strip() == str((root / "flows").resolve()), shell.stderr


def test_pypi_pins_packages_and_the_workflow_runs_with_the_pypi_environment(tmp_path):
    root = tmp_path / "proj"
    assert cli("init", str(root), "--pypi").returncode == 0
    for name in ("train", "predict"):
        source = (root / f"flows/{name}.py").read_text(encoding="utf-8")
        assert '@pypi_base(python="3.12", packages={"numpy": "2.2.6"})' in source
    commands = [step["run"] for step in workflow_steps(root) if "in test mode" in step.get("name", "")]
    assert commands == ["python train.py --no-pylint --environment=pypi run --test_mode 1",
                        "python predict.py --no-pylint --environment=pypi run --test_mode 1"]
    checked = cli("check", str(root))  # pinned (MF301) and with python= (MF303)
    assert (checked.returncode, checked.stdout) == (0, ""), checked.stdout


def test_a_second_init_changes_nothing_byte_for_byte(tmp_path):
    root = tmp_path / "proj"
    assert cli("init", str(root)).returncode == 0
    before = snapshot(root)
    again = cli("init", str(root))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"skipped {name} (already there, kept as it is)" for name in SCAFFOLD]
    assert snapshot(root) == before


def test_init_in_an_existing_folder_keeps_its_files_and_extends_its_gitignore(tmp_path):
    (tmp_path / "flows").mkdir()
    common = "def mine():\n    return 1\n"
    (tmp_path / "flows/common.py").write_text(common, encoding="utf-8")
    (tmp_path / ".gitignore").write_text("*.log\n.metaflow", encoding="utf-8")  # no final line break
    result = cli("init", str(tmp_path), "--name", "demo")
    assert result.returncode == 0, result.stderr
    assert "skipped flows/common.py (already there, kept as it is)" in result.stdout.splitlines()
    assert "wrote .gitignore" in result.stdout.splitlines()
    assert (tmp_path / "flows/common.py").read_text(encoding="utf-8") == common
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == \
        "*.log\n.metaflow\n.metaflow_spin/\n__pycache__/\n.ipynb_checkpoints/\n"
    before = snapshot(tmp_path)
    assert cli("init", str(tmp_path), "--name", "demo").returncode == 0
    assert snapshot(tmp_path) == before


def test_init_never_writes_through_a_link_out_of_the_project(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "flows").symlink_to(outside)
    result = cli("init", str(root))
    assert result.returncode == 1
    assert "flows/train.py: not written: leads out of the project folder" in result.stderr
    assert list(outside.iterdir()) == []
    assert not (root / ".github").exists()  # no workflow for flows that are not there
    assert ".github/workflows/metaflow.yml: not written: the flows above are missing" in result.stderr


def test_init_with_an_unreadable_gitignore_says_so_and_still_writes_the_workflow(tmp_path):
    os.mkfifo(tmp_path / ".gitignore")  # a FIFO: reading it would wait for a writer forever
    result = cli("init", str(tmp_path), "--name", "demo")
    assert result.returncode == 1
    assert "metaflow-lsp: .gitignore: cannot read it (not a regular file)" in result.stderr.splitlines()
    assert "wrote .github/workflows/metaflow.yml" in result.stdout.splitlines()
    assert [step.get("name") for step in workflow_steps(tmp_path)][-2:] == [
        "DemoTrainFlow in test mode", "DemoPredictFlow in test mode"]


def test_init_refuses_a_bad_name_and_a_file_in_the_way(tmp_path):
    result = cli("init", str(tmp_path / "p"), "--name", "2fast")
    assert result.returncode == 2 and "the name '2fast' must start with a letter" in result.stderr
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = cli("init", str(tmp_path / "file"))
    assert result.returncode == 2 and "is not a folder" in result.stderr


FLOW = '''\
from metaflow import FlowSpec, Parameter, step{imports}

{decorator}class {name}(FlowSpec):
{parameter}
    @step
    def start(self):
{start}        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    {name}()
'''


def flow(name: str, parameter: str = '    test_mode = Parameter("test_mode", type=bool, default=False)\n',
         decorator: str = "", imports: str = "", start: str = "        pass\n") -> str:
    return FLOW.format(name=name, parameter=parameter, decorator=decorator, imports=imports, start=start)


def test_ci_workflow_runs_every_flow_found_by_content_in_reading_order(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.metaflow-lsp]\n", encoding="utf-8")
    files = {
        # Reads ZFlow's run: runs after it, although its path comes first.
        "a/reader.py": flow("ReaderFlow", imports="\nfrom metaflow import Flow",
                            start='        self.model = Flow("ZFlow").latest_successful_run.pathspec\n'),
        "pipelines/deep/z.py": flow("ZFlow", decorator='@conda_base(python="3.12", packages={"pandas": "2.2.3"})\n',
                                    imports=", conda_base"),
        "smoke/flow.py": flow("SmokeFlow", parameter='    quick = Parameter("smoke-test", type=bool, default=False)\n'),
        "big/full.py": flow("FullFlow", parameter='    rows = Parameter("rows", type=int, default=10)\n'),
        "ignored/old.py": flow("OldFlow"),
        "lib/helpers.py": "def helper():\n    return 1\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    (tmp_path / ".gitignore").write_text("ignored/\n", encoding="utf-8")  # no repository: the file is read
    result = cli("ci-workflow", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "wrote .github/workflows/metaflow.yml: 3 flows in test mode"
    assert "FullFlow (big/full.py) has no test-mode Parameter: not run in the workflow" in result.stderr
    steps = workflow_steps(tmp_path)
    assert [(step["name"], step.get("working-directory"), step["run"]) for step in steps if "name" in step][1:] == [
        ("ZFlow in test mode", "pipelines/deep", "python z.py --no-pylint --environment=conda run --test_mode 1"),
        ("ReaderFlow in test mode", "a", "python reader.py --no-pylint run --test_mode 1"),
        ("SmokeFlow in test mode", "smoke", "python flow.py --no-pylint run --smoke-test 1"),
    ]
    text = (tmp_path / ".github/workflows/metaflow.yml").read_text(encoding="utf-8")
    assert "# FullFlow (big/full.py): no test-mode Parameter, not run" in text
    assert "OldFlow" not in text
    again = cli("ci-workflow", str(tmp_path))
    assert again.stdout.splitlines()[0] == "unchanged .github/workflows/metaflow.yml: 3 flows in test mode"


def test_ci_workflow_quotes_a_file_name_that_would_end_its_comment(tmp_path):
    name = "full\n      - run: echo injected #.py"  # a file name may hold a line break
    (tmp_path / name).write_text(flow("FullFlow", parameter='    rows = Parameter("rows", default=10)\n'),
                                 encoding="utf-8")
    (tmp_path / "smoke.py").write_text(flow("SmokeFlow"), encoding="utf-8")
    result = cli("ci-workflow", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [step.get("run") for step in workflow_steps(tmp_path)][-2:] == [
        "metaflow-lsp check --format github .", "python smoke.py --no-pylint run --test_mode 1"]
    text = (tmp_path / ".github/workflows/metaflow.yml").read_text(encoding="utf-8")
    assert '# FullFlow ("full\\n      - run: echo injected #.py"): no test-mode Parameter, not run' in text


def test_ci_workflow_refuses_a_workflow_folder_linked_out_of_the_project(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "proj"
    (root / ".github").mkdir(parents=True)
    (root / ".github/workflows").symlink_to(outside)
    (root / "train.py").write_text(flow("TrainFlow"), encoding="utf-8")
    result = cli("ci-workflow", str(root))
    assert result.returncode == 1
    assert "leads out of the project folder" in result.stderr
    assert list(outside.iterdir()) == []


def run_step(step: dict, root: Path, env: dict[str, str]) -> str:
    """A workflow step's `run` line as the runner would run it, with this interpreter as `python`."""
    command = shlex.split(step["run"])
    assert command[0] == "python"
    result = subprocess.run([sys.executable, *command[1:]], cwd=root / step["working-directory"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout + result.stderr


NOTEBOOK_CHECK = """\
from metaflow import Flow
train = Flow("ProjTrainFlow").latest_successful_run
predict = Flow("ProjPredictFlow").latest_successful_run
print(train.data.test_mode, len(train["start"].task["data"].data), sorted(train["start"].task["learning_rates"].data))
print(predict.data.model_run == train.pathspec, len(list(predict["predict"])), len(predict.data.predictions))
"""


@pytest.mark.slow
def test_the_scaffolds_flows_run_in_test_mode_as_its_workflow_runs_them_and_the_notebook_runs(tmp_path):
    root = tmp_path / "proj"
    assert cli("init", str(root)).returncode == 0
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "METAFLOW_USER": "tester",
           "LANG": "C.UTF-8"}
    flows = [step for step in workflow_steps(root) if "in test mode" in step.get("name", "")]
    for step in flows:
        assert "Done!" in run_step(step, root, env)
    facts = subprocess.run([sys.executable, "-c", NOTEBOOK_CHECK], cwd=root / "flows", env=env, capture_output=True,
                           text=True, timeout=120)
    assert facts.returncode == 0, facts.stderr
    # Test mode shrank the data (60 rows) and both fan-outs (2 learning rates, 2 batches); predict read train's run.
    assert facts.stdout.splitlines() == ["True 60 [0.001, 0.003]", "True 2 60"]

    # The notebook's code, run in flows/ as Jupyter would (its IPython magics left out: no kernel here).
    notebook = json.loads((root / "flows/debug.ipynb").read_text(encoding="utf-8"))
    code = "\n".join(line for cell in notebook["cells"] if cell["cell_type"] == "code"
                     for line in "".join(cell["source"]).splitlines() if not line.startswith("%"))
    result = subprocess.run([sys.executable, "-c", code], cwd=root / "flows", env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ProjTrainFlow/") and lines[0].endswith(" successful 60 rows")
    for line in lines[1:]:  # common.fit_line called again gives what the run recorded
        computed, recorded = line.split(" recorded: ")
        assert computed.split(" ", 1)[1] == recorded, line
    assert len(lines) == 3


def test_the_readme_lists_the_files_init_writes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## New projects and CI\n", 1)[1].split("\n## ", 1)[0]
    listed = [name for row in re.findall(r"^\| (`[^|]+`) \|", section, re.M) for name in re.findall(r"`([^`]+)`", row)]
    assert sorted(listed) == sorted(SCAFFOLD)


def test_ci_workflow_keeps_an_edited_workflow_unless_forced(tmp_path):
    (tmp_path / "train.py").write_text(flow("TrainFlow"), encoding="utf-8")
    assert cli("ci-workflow", str(tmp_path)).returncode == 0
    target = tmp_path / ".github/workflows/metaflow.yml"
    edited = target.read_text(encoding="utf-8").replace("ubuntu-latest", "self-hosted")
    target.write_text(edited, encoding="utf-8")
    kept = cli("ci-workflow", str(tmp_path))
    assert kept.returncode == 1
    assert "-    runs-on: self-hosted\n+    runs-on: ubuntu-latest\n" in kept.stdout  # the diff
    assert "exists and differs from the workflow above: not replaced (--force replaces it)" in kept.stderr
    assert target.read_text(encoding="utf-8") == edited
    forced = cli("ci-workflow", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "runs-on: ubuntu-latest" in target.read_text(encoding="utf-8")


def test_python_m_scaffold_is_init_and_imports_nothing_from_its_working_directory(tmp_path):
    """VS Code's "Metaflow: New Project" runs `python -m metaflow_lsp.scaffold DIR --name N --format json`; `-m`
    puts the working directory first on sys.path, where a module shadowing one the CLI imports must not run."""
    hostile = tmp_path / "cwd"
    hostile.mkdir()
    for module in ("difflib", "tomllib", "shlex", "ast"):
        (hostile / f"{module}.py").write_text("raise SystemExit('imported from the working directory')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
    result = subprocess.run([sys.executable, "-m", "metaflow_lsp.scaffold", str(tmp_path / "new"), "--name", "n",
                             "--format", "json"], cwd=hostile, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["written"] == SCAFFOLD
