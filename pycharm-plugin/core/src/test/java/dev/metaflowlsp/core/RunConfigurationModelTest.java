package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.Test;

public class RunConfigurationModelTest {
    @Test
    public void testModeRunsWithTheRunExecutor() {
        RunConfigurationModel model =
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.TEST_MODE), MetaflowCommand.fromId("metaflow.runTestMode"));
        assertEquals("TrainFlow (test mode)", model.name());
        assertEquals("/home/me/my flows/train.py", model.scriptPath());
        assertEquals("--no-pylint run --test_mode 1 --max-workers 1 --tag ide-test-run", model.parameters());
        assertEquals("/home/me/my flows", model.workingDirectory());
        assertEquals(Map.of("PYTHONUNBUFFERED", "1"), model.env());
        assertTrue(model.passParentEnvs());
        assertEquals(MetaflowCommand.Executor.RUN, model.executor());
        assertFalse(model.followSubprocesses());
    }

    @Test
    public void foreachDebuggingFollowsSubprocesses() {
        RunConfigurationModel model =
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.DEBUG), MetaflowCommand.fromId("metaflow.debugForeach"));
        assertEquals("TrainFlow (foreach debug)", model.name());
        assertEquals(MetaflowCommand.Executor.DEBUG, model.executor());
        assertTrue(model.followSubprocesses());
        assertEquals("1", model.env().get("PYDEVD_DISABLE_FILE_VALIDATION"));
    }

    @Test
    public void resumeAndSpinRun() {
        RunSpec spec = RunSpec.parse(RunSpecTest.TEST_MODE.replace("\"testMode\"", "\"resume\""));
        assertEquals("TrainFlow (resume)", RunConfigurationModel.of(spec, MetaflowCommand.fromId("metaflow.resume")).name());
        assertEquals(MetaflowCommand.Executor.RUN, RunConfigurationModel.of(spec, MetaflowCommand.fromId("metaflow.resume")).executor());
        assertEquals("TrainFlow (spin)", RunConfigurationModel.of(spec, MetaflowCommand.fromId("metaflow.spin")).name());
        assertEquals(MetaflowCommand.Executor.RUN, RunConfigurationModel.of(spec, MetaflowCommand.fromId("metaflow.spin")).executor());
    }

    @Test
    public void parametersReadBackAsTheSpecsArguments() {
        String json = RunSpecTest.TEST_MODE.replace("\"ide-test-run\"",
                "\"ide test run\", \"say \\\"hi\\\"\", \"$HOME\", \"\", \"C:\\\\dir\\\\\"");
        RunSpec spec = RunSpec.parse(json);
        RunConfigurationModel model = RunConfigurationModel.of(spec, MetaflowCommand.fromId("metaflow.runTestMode"));
        assertEquals(spec.args(), ParametersList.parse(model.parameters()));
        assertEquals(spec.args(), model.arguments());
    }

    @Test
    public void aSecondFlowOfTheSameNameGetsItsFileInTheName() {
        RunConfigurationModel model =
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.TEST_MODE), MetaflowCommand.fromId("metaflow.runTestMode"));
        // As `metaflow-lsp run-configs` names two flows of one class name: the path inside the project.
        assertEquals("TrainFlow (test mode, my flows/train.py)", model.withFileInName(Path.of("/home/me")).name());
        assertEquals("TrainFlow (test mode, train.py)", model.withFileInName(Path.of("/home/me/my flows")).name());
        assertEquals("TrainFlow (test mode, /home/me/my flows/train.py)",
                model.withFileInName(Path.of("/elsewhere")).name());
        assertEquals("TrainFlow (test mode, /home/me/my flows/train.py)", model.withFileInName(null).name());
    }

    @Test
    public void commandsAreLookedUpById() {
        MetaflowCommand debug = MetaflowCommand.fromId("metaflow.debugForeach");
        assertEquals("metaflow.debugForeach", debug.id());
        assertEquals(MetaflowCommand.Executor.DEBUG, debug.executor());
        assertEquals("foreach debug", debug.label());
        // Read from the server's commands.json (tests/test_pycharm_plugin.py compares the ids with it).
        assertEquals(MetaflowCommand.all().size(),
                MetaflowCommand.all().stream().map(MetaflowCommand::id).distinct().count());
        assertEquals("Metaflow: unknown command \"metaflow.nope\".",
                assertThrows(RunSpecException.class, () -> MetaflowCommand.fromId("metaflow.nope")).getMessage());
    }
}
