package dev.metaflowlsp.pycharm;

import com.intellij.execution.Executor;
import com.intellij.execution.ProgramRunnerUtil;
import com.intellij.execution.RunManager;
import com.intellij.execution.RunnerAndConfigurationSettings;
import com.intellij.execution.executors.DefaultDebugExecutor;
import com.intellij.execution.executors.DefaultRunExecutor;
import com.intellij.openapi.module.Module;
import com.intellij.openapi.module.ModuleUtilCore;
import com.intellij.openapi.project.Project;
import com.intellij.openapi.ui.Messages;
import com.intellij.openapi.util.io.FileUtil;
import com.intellij.openapi.vfs.LocalFileSystem;
import com.intellij.openapi.vfs.VirtualFile;
import com.jetbrains.python.debugger.PyDebuggerOptionsProvider;
import com.jetbrains.python.run.PythonConfigurationType;
import com.jetbrains.python.run.PythonRunConfiguration;
import dev.metaflowlsp.core.MetaflowCommand;
import dev.metaflowlsp.core.RunConfigurationModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * Creates (or updates) the Python run configuration of a {@link RunConfigurationModel} and starts it with the Run or
 * the Debug executor. Runs on the EDT.
 *
 * <p>A configuration of the same name for the same script is reused and updated, so clicking a lens twice does not
 * pile up configurations, and the server's own {@code .run/<Flow> (test mode).run.xml} (same name, same values) is
 * the one that runs. One of that name for another script is left alone: ours then carries the file's project path
 * too, as the server names it. The fields set here are the ones {@code RunConfigurationXml} renders: the lens's
 * configuration and the CLI's file are one model.
 */
final class FlowLauncher {
    private FlowLauncher() {
    }

    static void launch(@NotNull Project project, @NotNull RunConfigurationModel model) {
        if (model.followSubprocesses() && !ensureSubprocessDebugging(project)) {
            return;
        }
        RunManager runManager = RunManager.getInstance(project);
        RunnerAndConfigurationSettings settings = find(runManager, model);
        if (settings == null && runManager.findConfigurationByName(model.name()) != null) {
            String base = project.getBasePath();
            model = model.withFileInName(base == null ? null : Path.of(base));
            settings = find(runManager, model);
        }
        if (settings == null) {
            settings = runManager.createConfiguration(model.name(), PythonConfigurationType.getInstance().getFactory());
            settings.setTemporary(true);
            runManager.addConfiguration(settings);
        }
        apply(project, (PythonRunConfiguration) settings.getConfiguration(), model);
        runManager.setSelectedConfiguration(settings);
        Executor executor = model.executor() == MetaflowCommand.Executor.DEBUG
                ? DefaultDebugExecutor.getDebugExecutorInstance()
                : DefaultRunExecutor.getRunExecutorInstance();
        ProgramRunnerUtil.executeConfiguration(settings, executor);
    }

    /** The existing Python configuration of this name for this script, if any. */
    private static @Nullable RunnerAndConfigurationSettings find(@NotNull RunManager runManager,
                                                               @NotNull RunConfigurationModel model) {
        RunnerAndConfigurationSettings existing = runManager.findConfigurationByName(model.name());
        if (existing != null && existing.getConfiguration() instanceof PythonRunConfiguration python
                && python.getScriptName() != null
                && FileUtil.pathsEqual(python.getScriptName(), model.scriptPath())) {
            return existing;
        }
        return null;
    }

    private static void apply(@NotNull Project project, @NotNull PythonRunConfiguration configuration,
                              @NotNull RunConfigurationModel model) {
        configuration.setScriptName(model.scriptPath());
        configuration.setScriptParameters(model.parameters());
        configuration.setWorkingDirectory(model.workingDirectory());
        configuration.setPassParentEnvs(model.passParentEnvs());
        configuration.setEnvs(new LinkedHashMap<>(model.env()));
        // The interpreter: the one of the module that holds the flow file (PyCharm's project interpreter).
        Module module = moduleOf(project, model.scriptPath());
        if (module != null) {
            configuration.setModule(module);
            configuration.setUseModuleSdk(true);
        }
    }

    private static @Nullable Module moduleOf(@NotNull Project project, @NotNull String path) {
        VirtualFile file = LocalFileSystem.getInstance().findFileByPath(FileUtil.toSystemIndependentName(path));
        return file == null ? null : ModuleUtilCore.findModuleForFile(file, project);
    }

    /**
     * Every Metaflow task runs in its own process: PyCharm's debugger stops in step code only with "Attach to
     * subprocess automatically while debugging" (Settings | Build, Execution, Deployment | Python Debugger), which is
     * on by default. When the user turned it off, ask before turning it back on. False: do not start.
     */
    private static boolean ensureSubprocessDebugging(@NotNull Project project) {
        PyDebuggerOptionsProvider options = PyDebuggerOptionsProvider.getInstance(project);
        if (options.isAttachToSubprocess()) {
            return true;
        }
        int answer = Messages.showYesNoCancelDialog(project,
                "Metaflow runs every task in its own process, so the debugger stops in step code only when "
                        + "\"Attach to subprocess automatically while debugging\" is on (Settings | Build, Execution, "
                        + "Deployment | Python Debugger). Turn it on for this project?",
                "Foreach Debugging", "Turn On and Debug", "Debug Anyway", "Cancel", Messages.getQuestionIcon());
        if (answer == Messages.CANCEL) {
            return false;
        }
        if (answer == Messages.YES) {
            options.setAttachToSubprocess(true);
        }
        return true;
    }
}
