package dev.metaflowlsp.pycharm;

import com.intellij.execution.configurations.GeneralCommandLine;
import com.intellij.ide.plugins.IdeaPluginDescriptor;
import com.intellij.ide.plugins.PluginManagerCore;
import com.intellij.openapi.application.PathManager;
import com.intellij.openapi.extensions.PluginId;
import com.intellij.openapi.project.Project;
import com.intellij.openapi.vfs.VirtualFile;
import com.redhat.devtools.lsp4ij.server.OSProcessStreamConnectionProvider;
import dev.metaflowlsp.core.ServerCommand;
import java.nio.charset.StandardCharsets;
import org.jetbrains.annotations.NotNull;

/**
 * Starts {@code <project interpreter> -m metaflow_lsp} (the server on stdio) in the plugin's own folder, never the
 * project's: {@code -m} puts the working directory first on {@code sys.path} (see {@link ServerCommand}). The
 * project reaches the server as LSP4IJ's rootUri and workspace folders. An argument list, never a shell line. The
 * parent environment is the one a console would have, so a PATH set in the user's shell profile reaches the server as
 * it reaches PyCharm's terminals.
 */
final class MetaflowServerConnectionProvider extends OSProcessStreamConnectionProvider {
    static final String PLUGIN_ID = "dev.metaflowlsp.pycharm";

    private final boolean trusted;

    MetaflowServerConnectionProvider(@NotNull Project project) {
        trusted = ProjectPython.isTrusted(project);
        GeneralCommandLine commandLine = new GeneralCommandLine(ServerCommand.command(ProjectPython.interpreter(project)))
                .withParentEnvironmentType(GeneralCommandLine.ParentEnvironmentType.CONSOLE)
                .withCharset(StandardCharsets.UTF_8)
                .withEnvironment("PYTHONIOENCODING", "utf-8")
                .withWorkDirectory(neutralFolder());
        setCommandLine(commandLine);
    }

    /** The server learns whether the project is trusted; untrusted, it offers nothing that runs or writes. */
    @Override
    public Object getInitializationOptions(VirtualFile rootUri) {
        return ServerCommand.initializationOptions(trusted);
    }

    /** The plugin's installation folder (jars only), else the IDE's own system folder: never a project folder. */
    private static @NotNull String neutralFolder() {
        IdeaPluginDescriptor plugin = PluginManagerCore.getPlugin(PluginId.getId(PLUGIN_ID));
        if (plugin != null && plugin.getPluginPath() != null) {
            return plugin.getPluginPath().toString();
        }
        return PathManager.getSystemPath();
    }
}
