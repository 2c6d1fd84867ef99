package dev.metaflowlsp.pycharm;

import com.intellij.notification.NotificationGroupManager;
import com.intellij.notification.NotificationType;
import com.intellij.openapi.actionSystem.ActionManager;
import com.intellij.openapi.actionSystem.ActionUpdateThread;
import com.intellij.openapi.actionSystem.AnActionEvent;
import com.intellij.openapi.project.Project;
import com.redhat.devtools.lsp4ij.commands.CommandExecutor;
import com.redhat.devtools.lsp4ij.commands.LSPCommand;
import com.redhat.devtools.lsp4ij.commands.LSPCommandAction;
import dev.metaflowlsp.core.MetaflowCommand;
import dev.metaflowlsp.core.RunConfigurationModel;
import dev.metaflowlsp.core.RunSpec;
import dev.metaflowlsp.core.RunSpecException;
import org.jetbrains.annotations.NotNull;

/**
 * The code lens commands of the server (commands.json: {@code metaflow.runTestMode} and the others), one instance per
 * action id in metaflow-lsp-python.xml; the id says which command it is. LSP4IJ dispatches a command here because
 * the server does not advertise it, with the lens's {@code arguments[0]}, the RunSpec, as a Gson element whose
 * {@code toString()} is its JSON text. The core checks it and decides the run configuration; {@link FlowLauncher}
 * creates and starts it.
 */
public final class RunSpecAction extends LSPCommandAction {
    static final String NOTIFICATION_GROUP = "Metaflow LSP";

    @Override
    protected @NotNull ActionUpdateThread getCommandPerformedThread() {
        // RunManager and ProgramRunnerUtil.executeConfiguration belong on the EDT.
        return ActionUpdateThread.EDT;
    }

    @Override
    public @NotNull ActionUpdateThread getActionUpdateThread() {
        return ActionUpdateThread.BGT;
    }

    @Override
    public void update(@NotNull AnActionEvent e) {
        // Only meaningful with a code lens's command: hidden from Find Action and menus otherwise.
        e.getPresentation().setEnabledAndVisible(e.getProject() != null
                && e.getData(CommandExecutor.LSP_COMMAND) != null);
    }

    @Override
    protected void commandPerformed(@NotNull LSPCommand command, @NotNull AnActionEvent e) {
        Project project = e.getProject();
        if (project == null || project.isDisposed()) {
            return;
        }
        if (!ProjectPython.isTrusted(project)) { // the server offers no lenses there; a stray command runs nothing
            notifyError(project, "Metaflow: flows are not run in an untrusted project.");
            return;
        }
        RunConfigurationModel model;
        try {
            Object argument = command.getArguments().isEmpty() ? null : command.getArgumentAt(0);
            RunSpec spec = RunSpec.parse(argument == null ? null : argument.toString());
            // One class for every lens command: the XML registers it under each id of commands.json.
            model = RunConfigurationModel.of(spec, MetaflowCommand.fromId(ActionManager.getInstance().getId(this)));
        } catch (RunSpecException error) {
            notifyError(project, error.getMessage());
            return;
        }
        FlowLauncher.launch(project, model);
    }

    static void notifyError(@NotNull Project project, @NotNull String message) {
        NotificationGroupManager.getInstance()
                .getNotificationGroup(NOTIFICATION_GROUP)
                .createNotification("Metaflow", message, NotificationType.ERROR)
                .notify(project);
    }
}
