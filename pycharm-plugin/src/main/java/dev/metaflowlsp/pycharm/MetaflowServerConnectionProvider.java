package dev.metaflowlsp.pycharm;

import com.intellij.execution.configurations.GeneralCommandLine;
import com.intellij.ide.plugins.IdeaPluginDescriptor;
import com.intellij.ide.plugins.PluginManagerCore;
import com.intellij.openapi.application.PathManager;
import com.intellij.openapi.diagnostic.Logger;
import com.intellij.openapi.extensions.PluginId;
import com.intellij.openapi.project.Project;
import com.intellij.openapi.vfs.VirtualFile;
import com.redhat.devtools.lsp4ij.server.CannotStartProcessException;
import com.redhat.devtools.lsp4ij.server.OSProcessStreamConnectionProvider;
import dev.metaflowlsp.core.ServerCommand;
import dev.metaflowlsp.core.ServerLaunch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jetbrains.annotations.NotNull;

/**
 * Starts the server as {@link ServerLaunch} decides: {@code <project interpreter> -m metaflow_lsp} in the plugin's
 * own folder (never the project's: {@code -m} puts the working directory first on {@code sys.path}), with the
 * plugin's bundled server on PYTHONPATH unless the import strategy says otherwise. Decided when LSP4IJ starts the
 * server (a background thread), so a changed interpreter or setting applies on the next start. When the interpreter
 * is missing or too old the user gets one notification with the fix, and LSP4IJ the reason. An argument list,
 * never a shell line; the parent environment is the one a console would have.
 */
final class MetaflowServerConnectionProvider extends OSProcessStreamConnectionProvider {
    static final String PLUGIN_ID = "dev.metaflowlsp.pycharm";
    private static final Logger LOG = Logger.getInstance(MetaflowServerConnectionProvider.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(15);

    private final Project project;
    private final boolean trusted;

    MetaflowServerConnectionProvider(@NotNull Project project) {
        this.project = project;
        trusted = ProjectPython.isTrusted(project);
    }

    @Override
    public void start() throws CannotStartProcessException {
        String interpreter = ProjectPython.interpreter(project);
        Path pluginDir = pluginFolder();
        ServerLaunch.Decision decision = ServerLaunch.decide(interpreter,
                ServerLaunch.runProbe(interpreter, pluginDir, PROBE_TIMEOUT), pluginDir,
                MetaflowLspSettings.getInstance().importStrategy(), Files::isDirectory);
        if (decision instanceof ServerLaunch.Problem problem) {
            ServerProblemNotification.show(project, problem.message());
            throw new CannotStartProcessException(problem.message());
        }
        ServerLaunch.Start launch = (ServerLaunch.Start) decision;
        LOG.info("Metaflow LSP: " + launch.source() + ": " + launch.command());
        setCommandLine(new GeneralCommandLine(launch.command())
                .withParentEnvironmentType(GeneralCommandLine.ParentEnvironmentType.CONSOLE)
                .withCharset(StandardCharsets.UTF_8)
                .withEnvironment(launch.env())
                .withWorkDirectory(launch.workingDirectory()));
        super.start();
    }

    /** The server learns whether the project is trusted; untrusted, it offers nothing that runs or writes. */
    @Override
    public Object getInitializationOptions(VirtualFile rootUri) {
        return ServerCommand.initializationOptions(trusted);
    }

    /** The plugin's installation folder (its jars and the bundled server/), else the IDE's own system folder (no
     *  bundle there): never a project folder. */
    private static @NotNull Path pluginFolder() {
        IdeaPluginDescriptor plugin = PluginManagerCore.getPlugin(PluginId.getId(PLUGIN_ID));
        if (plugin != null && plugin.getPluginPath() != null) {
            return plugin.getPluginPath();
        }
        return Path.of(PathManager.getSystemPath());
    }
}
