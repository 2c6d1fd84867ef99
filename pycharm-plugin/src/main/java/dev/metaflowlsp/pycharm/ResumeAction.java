package dev.metaflowlsp.pycharm;

import dev.metaflowlsp.core.MetaflowCommand;

/** {@code metaflow.resume}: Resumes an earlier run from a step (code lens of metaflow-lsp). */
public final class ResumeAction extends RunSpecAction {
    public ResumeAction() {
        super(MetaflowCommand.RESUME);
    }
}
