package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class RunConfigurationModelTest {
    @Test
    public void testModeRunsWithTheRunExecutor() {
        RunConfigurationModel model =
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.TEST_MODE), MetaflowCommand.RUN_TEST_MODE);
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
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.DEBUG), MetaflowCommand.DEBUG_FOREACH);
        assertEquals("TrainFlow (foreach debug)", model.name());
        assertEquals(MetaflowCommand.Executor.DEBUG, model.executor());
        assertTrue(model.followSubprocesses());
        assertEquals("1", model.env().get("PYDEVD_DISABLE_FILE_VALIDATION"));
    }

    @Test
    public void resumeAndSpinRun() {
        RunSpec spec = RunSpec.parse(RunSpecTest.TEST_MODE.replace("\"testMode\"", "\"resume\""));
        assertEquals("TrainFlow (resume)", RunConfigurationModel.of(spec, MetaflowCommand.RESUME).name());
        assertEquals(MetaflowCommand.Executor.RUN, RunConfigurationModel.of(spec, MetaflowCommand.RESUME).executor());
        assertEquals("TrainFlow (spin)", RunConfigurationModel.of(spec, MetaflowCommand.SPIN).name());
        assertEquals(MetaflowCommand.Executor.RUN, RunConfigurationModel.of(spec, MetaflowCommand.SPIN).executor());
    }

    @Test
    public void parametersReadBackAsTheSpecsArguments() {
        String json = RunSpecTest.TEST_MODE.replace("\"ide-test-run\"",
                "\"ide test run\", \"say \\\"hi\\\"\", \"$HOME\", \"\", \"C:\\\\dir\\\\\"");
        RunSpec spec = RunSpec.parse(json);
        RunConfigurationModel model = RunConfigurationModel.of(spec, MetaflowCommand.RUN_TEST_MODE);
        assertEquals(spec.args(), ParametersList.parse(model.parameters()));
        assertEquals(spec.args(), model.arguments());
    }

    @Test
    public void aSecondFlowOfTheSameNameGetsItsFileInTheName() {
        RunConfigurationModel model =
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.TEST_MODE), MetaflowCommand.RUN_TEST_MODE);
        assertEquals("TrainFlow (test mode, train.py)", model.withFileInName().name());
        RunConfigurationModel windows =
                RunConfigurationModel.of(RunSpec.parse(RunSpecTest.DEBUG), MetaflowCommand.DEBUG_FOREACH);
        assertEquals("TrainFlow (foreach debug, train.py)", windows.withFileInName().name());
    }

    @Test
    public void commandsAreLookedUpById() {
        assertEquals(MetaflowCommand.DEBUG_FOREACH, MetaflowCommand.fromId("metaflow.debugForeach"));
        assertEquals(List.of("metaflow.runTestMode", "metaflow.debugForeach", "metaflow.resume", "metaflow.spin"),
                List.of(MetaflowCommand.values()).stream().map(MetaflowCommand::id).toList());
        assertEquals("Metaflow: unknown command \"metaflow.nope\".",
                assertThrows(RunSpecException.class, () -> MetaflowCommand.fromId("metaflow.nope")).getMessage());
    }
}
