package dev.metaflowlsp.pycharm;

import com.intellij.execution.configurations.GeneralCommandLine;
import com.intellij.openapi.project.Project;
import com.redhat.devtools.lsp4ij.server.OSProcessStreamConnectionProvider;
import dev.metaflowlsp.core.ServerCommand;
import java.nio.charset.StandardCharsets;
import org.jetbrains.annotations.NotNull;

/**
 * Starts {@code <project interpreter> -m metaflow_lsp} (the server on stdio) in the project's folder. An argument
 * list, never a shell line. The parent environment is the one a console would have, so a PATH set in the user's
 * shell profile reaches the server as it reaches PyCharm's terminals.
 */
final class MetaflowServerConnectionProvider extends OSProcessStreamConnectionProvider {
    MetaflowServerConnectionProvider(@NotNull Project project) {
        GeneralCommandLine commandLine = new GeneralCommandLine(ServerCommand.command(ProjectPython.interpreter(project)))
                .withParentEnvironmentType(GeneralCommandLine.ParentEnvironmentType.CONSOLE)
                .withCharset(StandardCharsets.UTF_8)
                .withEnvironment("PYTHONIOENCODING", "utf-8");
        String basePath = project.getBasePath();
        if (basePath != null) {
            commandLine = commandLine.withWorkDirectory(basePath);
        }
        setCommandLine(commandLine);
    }
}
