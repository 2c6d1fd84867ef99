package dev.metaflowlsp.pycharm;

import dev.metaflowlsp.core.MetaflowCommand;

/** {@code metaflow.runTestMode}: Runs the flow in test mode with one worker (code lens of metaflow-lsp). */
public final class RunTestModeAction extends RunSpecAction {
    public RunTestModeAction() {
        super(MetaflowCommand.RUN_TEST_MODE);
    }
}
