package dev.metaflowlsp.pycharm;

import com.intellij.notification.NotificationAction;
import com.intellij.notification.NotificationGroupManager;
import com.intellij.notification.NotificationType;
import com.intellij.openapi.options.ShowSettingsUtil;
import com.intellij.openapi.project.Project;
import org.jetbrains.annotations.NotNull;

/**
 * The one notification a server that cannot start shows: the core's message (what is wrong and where to fix it) and
 * buttons to the two settings pages it names.
 */
final class ServerProblemNotification {
    private ServerProblemNotification() {
    }

    static void show(@NotNull Project project, @NotNull String message) {
        NotificationGroupManager.getInstance()
                .getNotificationGroup(RunSpecAction.NOTIFICATION_GROUP)
                .createNotification("Metaflow LSP did not start", message, NotificationType.ERROR)
                .addAction(NotificationAction.createSimple("Python interpreter settings", () ->
                        ShowSettingsUtil.getInstance().showSettingsDialog(project, "Python Interpreter")))
                .addAction(NotificationAction.createSimple("Metaflow LSP settings", () ->
                        ShowSettingsUtil.getInstance().showSettingsDialog(project, MetaflowLspConfigurable.class)))
                .notify(project);
    }
}
