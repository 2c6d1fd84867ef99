package dev.metaflowlsp.pycharm;

import dev.metaflowlsp.core.MetaflowCommand;

/** {@code metaflow.spin}: Runs one step again with the artifacts of an earlier run (code lens of metaflow-lsp). */
public final class SpinAction extends RunSpecAction {
    public SpinAction() {
        super(MetaflowCommand.SPIN);
    }
}
