package dev.metaflowlsp.pycharm;

import dev.metaflowlsp.core.MetaflowCommand;

/**
 * {@code metaflow.debugForeach}: Debugs the flow with one worker, following Metaflow's task subprocesses (code lens of metaflow-lsp).
 */
public final class DebugForeachAction extends RunSpecAction {
    public DebugForeachAction() {
        super(MetaflowCommand.DEBUG_FOREACH);
    }
}
