"""RunSpecs from the static model: arguments, names, environments; the local datastore reader; the spin probe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.launch import capabilities, datastore
from metaflow_lsp.launch.runner import LaunchError, command_for, spec_for_file
from metaflow_lsp.launch.runspec import (
    IDE_TAG, KIND_DEBUG_FOREACH, KIND_TEST_MODE, RunSpec, environment_option, resume_spec, run_spec, spin_spec,
)

BASE = """
from metaflow import FlowSpec, Parameter, step, pypi, pypi_base, conda_base, conda


{decorator}
class TrainFlow(FlowSpec):
{parameters}

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def flow_of(tmp_path: Path, parameters: str = "    pass", decorator: str = "", name: str = "train.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(BASE).format(parameters=parameters, decorator=decorator))
    module = parse_module(path.read_text(), path)
    return module.flows[0], path


def test_test_mode_args_use_the_option_name_and_one_worker(tmp_path):
    flow, path = flow_of(tmp_path, '    quick_mode = Parameter("test_mode", type=bool, default=False)')
    spec = run_spec(flow, path, Settings())
    assert spec.args == ("--no-pylint", "run", "--test_mode", "1", "--max-workers", "1", "--tag", IDE_TAG)
    assert spec.script == str(path.resolve()) and spec.cwd == str(tmp_path.resolve())
    assert spec.title == "Run in test mode" and spec.test_option == "--test_mode"
    assert dict(spec.env) == {"PYTHONUNBUFFERED": "1"} and not spec.debug and spec.kind == KIND_TEST_MODE


def test_test_mode_names_come_from_settings_in_order(tmp_path):
    flow, path = flow_of(tmp_path, '    a = Parameter("dry_run", type=bool)\n    b = Parameter("smoke", type=bool)')
    assert run_spec(flow, path, Settings()).test_option == "--smoke"  # smoke comes before dry_run by default
    assert run_spec(flow, path, Settings(test_mode_parameters=("dry_run",))).test_option == "--dry_run"
    # No configured name: a bool Parameter with a test-mode word in its option (dry, smoke, ...), first defined.
    assert run_spec(flow, path, Settings(test_mode_parameters=("ci",))).test_option == "--dry_run"


@pytest.mark.parametrize("parameters, option", [
    ('    smoke_test = Parameter("smoke_test", type=bool, default=False)', "--smoke_test"),
    ('    is_dev = Parameter("is_dev", default=False, help="run with a smaller dataset")', "--is_dev"),
    ('    test = Parameter("test", type=bool, help="run flow on test mode")', "--test"),
    ('    a = Parameter("flag", type=bool, help="Run in test mode")\n    b = Parameter("smoke", type=bool)', "--smoke"),
    ('    use_gpu = Parameter("use_gpu", type=bool, help="train on the GPU")', None),
    ('    rows = Parameter("sample_size", default=100)', None),  # not a switch: passing 1 would change its meaning
])
def test_test_mode_parameter_under_other_names(tmp_path, parameters, option):
    """The launcher passes `--<option> 1` to the Parameter MF204-MF206 take as the test mode."""
    flow, path = flow_of(tmp_path, parameters)
    spec = run_spec(flow, path, Settings())
    assert spec.test_option == option
    if option:
        assert spec.args[spec.args.index("run") + 1:][:2] == (option, "1")


def test_attribute_name_matches_when_no_option_does(tmp_path):
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test-mode", type=bool)')
    assert run_spec(flow, path, Settings()).test_option == "--test-mode"


def test_config_and_computed_names_are_not_test_mode_parameters(tmp_path):
    flow, path = flow_of(tmp_path, '    test_mode = Config("test_mode")\n    smoke = Parameter(NAME)')
    spec = run_spec(flow, path, Settings())
    assert spec.test_option is None


def test_flow_without_test_mode_parameter_still_gets_one_worker(tmp_path):
    flow, path = flow_of(tmp_path, '    alpha = Parameter("alpha", default=1)')
    spec = run_spec(flow, path, Settings())
    assert spec.args == ("--no-pylint", "run", "--max-workers", "1", "--tag", IDE_TAG)
    assert spec.title == "Run (1 worker) — no test-mode Parameter"
    debug = run_spec(flow, path, Settings(), debug=True)
    assert debug.title.startswith("Debug (foreach, one worker)") and "no test-mode Parameter" in debug.title


@pytest.mark.parametrize("decorator, expected", [
    ("", None), ("@pypi_base(packages={'pandas': '2.2.2'})", "--environment=pypi"),
    ("@conda_base(python='3.11')", "--environment=conda"), ("@project(name='x')", None),
])
def test_environment_option_precedes_run(tmp_path, decorator, expected):
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)', decorator)
    assert environment_option(flow) == expected
    args = run_spec(flow, path, Settings()).args
    if expected:
        assert args[:3] == ("--no-pylint", expected, "run")
    else:
        assert not any(a.startswith("--environment") for a in args)


def test_step_level_pypi_and_conda(tmp_path):
    source = textwrap.dedent(BASE).format(parameters="    pass", decorator="").replace(
        "    @step\n    def end", "    @pypi(packages={'x': '1'})\n    @step\n    def end")
    path = tmp_path / "p.py"
    path.write_text(source)
    assert environment_option(parse_module(source, path).flows[0]) == "--environment=pypi"
    path.write_text(source.replace("@pypi(packages={'x': '1'})", "@conda(libraries={'x': '1'})\n    @pypi(packages={})"))
    assert environment_option(parse_module(path.read_text(), path).flows[0]) == "--environment=conda"


def test_debug_spec_is_the_same_run_marked_for_a_subprocess_debugger(tmp_path):
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)')
    run, debug = run_spec(flow, path, Settings()), run_spec(flow, path, Settings(), debug=True)
    assert debug.args == run.args and debug.script == run.script and debug.cwd == run.cwd
    assert debug.debug and debug.kind == KIND_DEBUG_FOREACH and debug.title == "Debug (foreach, one worker)"
    assert debug.debugger == {"type": "debugpy", "subProcess": True, "justMyCode": False}
    assert dict(debug.env)["PYTHONUNBUFFERED"] == "1"


def test_json_shape_and_round_trip(tmp_path):
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)')
    spec = run_spec(flow, path, Settings(), debug=True)
    data = json.loads(json.dumps(spec.to_json()))
    assert set(data) == {"title", "kind", "flow", "script", "args", "cwd", "env", "debug", "debugger", "testOption"}
    assert data["flow"] == "TrainFlow" and isinstance(data["args"], list) and isinstance(data["env"], dict)
    assert RunSpec.from_json(data) == spec


def test_no_secret_reaches_the_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)')
    for spec in (run_spec(flow, path, Settings()), run_spec(flow, path, Settings(), debug=True)):
        assert "hunter2" not in json.dumps(spec.to_json())
        assert set(dict(spec.env)) <= {"PYTHONUNBUFFERED", "PYDEVD_DISABLE_FILE_VALIDATION"}


def test_resume_and_spin_specs_name_the_run_explicitly(tmp_path):
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)', "@pypi_base(python='3.11')")
    resume = resume_spec(flow, path, "end", "1700")
    assert resume.args == ("--no-pylint", "--environment=pypi", "resume", "end", "--origin-run-id", "1700",
                           "--max-workers", "1", "--tag", IDE_TAG)
    assert spin_spec(flow, path, "end", "1700").args[-2:] == ("spin", "TrainFlow/1700/end")
    assert spin_spec(flow, path, "end", "1700", "5").args[-1] == "TrainFlow/1700/end/5"


def test_runner_commands_are_argument_lists(tmp_path):
    flow, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)', name="$(touch x) a b.py")
    spec = run_spec(flow, path, Settings())
    assert command_for(spec, "/py") == ["/py", str(path.resolve()), *spec.args]
    debug = command_for(spec, "/py", debug_port=5678)
    assert debug[:6] == ["/py", "-Xfrozen_modules=off", "-m", "debugpy", "--listen", "127.0.0.1:5678"]
    assert "--wait-for-client" in debug and debug[-len(spec.args) - 1:] == [str(path.resolve()), *spec.args]
    assert "--wait-for-client" not in command_for(spec, "/py", debug_port=5678, wait=False)


def test_spec_for_file_picks_the_flow_and_reports_problems(tmp_path):
    _, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)')
    assert spec_for_file(path).flow == "TrainFlow"
    with pytest.raises(LaunchError, match="no such file"):
        spec_for_file(tmp_path / "missing.py")
    with pytest.raises(LaunchError, match="no flow class named Other"):
        spec_for_file(path, "Other")
    (tmp_path / "broken.py").write_text("class X(:\n")
    with pytest.raises(LaunchError, match="syntax error"):
        spec_for_file(tmp_path / "broken.py")
    two = tmp_path / "two.py"
    two.write_text(path.read_text() + "\n\nclass OtherFlow(TrainFlow):\n    pass\n\nif __name__ == '__main__':\n"
                                        "    OtherFlow()\n")
    assert spec_for_file(two).flow == "OtherFlow"  # the one the main guard runs


# -- the local datastore, read statically ---------------------------------------------------------------------------


def fake_run(root: Path, flow: str, run_id: str, ts: int, steps: dict[str, list[str]]) -> None:
    run = root / ".metaflow" / flow / run_id
    (run / "_meta").mkdir(parents=True)
    (run / "_meta" / "_self.json").write_text(json.dumps({"run_number": run_id, "flow_id": flow, "ts_epoch": ts,
                                                          "tags": ["t"], "system_tags": []}))
    for step, tasks in steps.items():
        for task in tasks:
            (run / step / task).mkdir(parents=True)


def test_latest_run_by_metaflow_timestamp_not_by_latest_run_file(tmp_path):
    fake_run(tmp_path, "F", "200", 2_000, {"start": ["1"]})
    fake_run(tmp_path, "F", "100", 3_000, {"start": ["1"], "work": ["2", "3"]})
    (tmp_path / ".metaflow" / "F" / "latest_run").write_text("200")  # as spin leaves it
    (tmp_path / ".metaflow" / "F" / "data").mkdir()
    (tmp_path / ".metaflow" / "F" / "not-a-run").mkdir()
    run = datastore.latest_run(tmp_path, "F")
    assert run.run_id == "100" and run.steps == {"start", "work"} and run.task_ids("work") == ("2", "3")
    assert datastore.latest_run(tmp_path, "Other") is None


def test_datastore_is_found_in_a_parent_folder_like_metaflow_does(tmp_path):
    fake_run(tmp_path, "F", "1", 1, {"start": ["1"]})
    nested = tmp_path / "flows" / "deep"
    nested.mkdir(parents=True)
    assert datastore.latest_run(nested, "F").run_id == "1"


def test_new_runs_and_new_steps_are_seen(tmp_path):
    fake_run(tmp_path, "F", "1", 1, {"start": ["1"]})
    assert datastore.latest_run(tmp_path, "F").steps == {"start"}
    flow_dir = tmp_path / ".metaflow" / "F"
    (flow_dir / "1" / "end" / "2").mkdir(parents=True)
    os.utime(flow_dir / "1", ns=(1, 10**18))  # a new step folder: the run folder's stamp changes
    assert datastore.latest_run(tmp_path, "F").steps == {"start", "end"}
    fake_run(tmp_path, "F", "2", 2, {"start": ["1"]})
    os.utime(flow_dir, ns=(1, 10**18 + 1))
    assert datastore.latest_run(tmp_path, "F").run_id == "2"


# -- does the installed Metaflow have spin? -------------------------------------------------------------------------


def test_spin_probe_reads_the_package_without_importing_it(tmp_path):
    assert capabilities.has_spin(sys.executable) is True  # metaflow 2.19 is installed in the test environment
    old = tmp_path / "metaflow"
    old.mkdir()
    (old / "cli.py").write_text('_commands = {"run": "metaflow.cli_components.run_cmds.run"}\n')
    assert capabilities.package_has_spin(old) is False
    (old / "cli.py").write_text('_commands = {"spin": "metaflow.cli_components.run_cmds.spin"}\n')
    assert capabilities.package_has_spin(old) is True


def test_spin_probe_without_metaflow(tmp_path):
    python = "/usr/bin/python3"
    if not Path(python).exists():
        pytest.skip("no system python")
    assert capabilities.has_spin(python) is False
    assert capabilities.has_spin(str(tmp_path / "no-such-python")) is False


def test_cli_prints_the_spec_and_the_debug_command(tmp_path):
    import subprocess

    _, path = flow_of(tmp_path, '    test_mode = Parameter("test_mode", type=bool)')
    cli = Path(sys.executable).with_name("metaflow-lsp")
    result = subprocess.run([str(cli), "test-mode", str(path), "--debug-port", "5678", "--print-spec",
                             "--python", "/opt/py"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["debug"] is True and printed["kind"] == KIND_DEBUG_FOREACH
    assert printed["command"][:6] == ["/opt/py", "-Xfrozen_modules=off", "-m", "debugpy", "--listen", "127.0.0.1:5678"]
    assert printed["command"][printed["command"].index("--configure-subProcess") + 1] == "true"
    bad = subprocess.run([str(cli), "test-mode", str(path), "--debug-port", "70000"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "port" in bad.stderr
    missing = subprocess.run([str(cli), "test-mode", str(tmp_path / "nope.py")], capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 2 and "no such file" in missing.stderr


DEV_FLOW = '''
from metaflow import FlowSpec, Parameter, step


class DevFlow(FlowSpec):
    is_dev = Parameter("is_dev", default=False, help="run with a smaller dataset")
    rows = Parameter("rows", default=1000)

    @step
    def start(self):
        self.used_rows = 10 if self.is_dev else self.rows
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DevFlow()
'''

READ_DEV_RUN = """
import json
from metaflow import Flow, namespace
namespace(None)
run = Flow("DevFlow").latest_run
print(json.dumps({"is_dev": run["start"].task.data.is_dev, "rows": run["start"].task.data.used_rows}))
"""


@pytest.mark.slow
def test_test_mode_under_another_name_takes_effect_in_a_real_run(tmp_path):
    """`is_dev` (no type=, a False default, help "run with a smaller dataset") is the test mode: the launcher's
    `--is_dev 1` reaches the flow as True."""
    path = tmp_path / "dev_flow.py"
    path.write_text(DEV_FLOW)
    spec = run_spec(parse_module(DEV_FLOW, path).flows[0], path, Settings())
    assert spec.test_option == "--is_dev"
    env = spec.environment({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                            "METAFLOW_USER": "tester", "LANG": "C.UTF-8"})
    result = subprocess.run(spec.command(sys.executable), cwd=spec.cwd, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    read = subprocess.run([sys.executable, "-c", READ_DEV_RUN], cwd=spec.cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout.strip().splitlines()[-1]) == {"is_dev": True, "rows": 10}
