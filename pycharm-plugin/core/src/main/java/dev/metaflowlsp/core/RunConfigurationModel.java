package dev.metaflowlsp.core;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python run configuration PyCharm gets for one code lens: what the plugin writes into a
 * {@code PythonRunConfiguration} (script, parameters, working directory, environment) and which executor starts it.
 * Everything here is decided without IntelliJ, so it is unit-tested; the IDE side only copies the fields.
 *
 * @param name              "TrainFlow (test mode)", the same name the server gives its {@code .run.xml}
 * @param scriptPath        absolute path of the flow file
 * @param arguments         the arguments after the script, as the server computed them
 * @param parameters        {@code arguments} as PyCharm's one-string "Parameters" ({@link ParametersList#join})
 * @param workingDirectory  the flow file's folder
 * @param env               variables added to the inherited environment (PARENT_ENVS stays on)
 * @param executor          Run or Debug
 * @param followSubprocesses true when the debugger must attach to subprocesses: every Metaflow task is one
 */
public record RunConfigurationModel(
        String name,
        String scriptPath,
        List<String> arguments,
        String parameters,
        String workingDirectory,
        Map<String, String> env,
        boolean passParentEnvs,
        MetaflowCommand.Executor executor,
        boolean followSubprocesses) {

    public RunConfigurationModel {
        arguments = List.copyOf(arguments);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    /** The configuration for {@code spec} started by {@code command} (which decides Run or Debug, as in VS Code). */
    public static RunConfigurationModel of(RunSpec spec, MetaflowCommand command) {
        MetaflowCommand.Executor executor = command.executor();
        return new RunConfigurationModel(
                spec.flow() + " (" + command.label() + ")",
                spec.script(),
                spec.args(),
                ParametersList.join(spec.args()),
                spec.cwd(),
                spec.env(),
                true,
                executor,
                executor == MetaflowCommand.Executor.DEBUG);
    }

    /**
     * The same configuration with the flow file in its name, for when another flow file already uses the plain name:
     * {@code TrainFlow (test mode, flows/train.py)}, the path relative to the project (absolute outside it), as
     * {@code metaflow-lsp run-configs} names two flows of one class name.
     */
    public RunConfigurationModel withFileInName(Path projectDir) {
        String relative = relativePath(scriptPath, projectDir);
        String base = name.endsWith(")") ? name.substring(0, name.length() - 1) : name;
        return new RunConfigurationModel(base + ", " + (relative == null ? scriptPath : relative) + ")", scriptPath,
                arguments, parameters, workingDirectory, env, passParentEnvs, executor, followSubprocesses);
    }

    /** {@code path} relative to {@code projectDir} with forward slashes ("" for the folder itself), or null when it
     *  is not inside it (or there is no project folder). */
    static String relativePath(String path, Path projectDir) {
        if (projectDir == null) {
            return null;
        }
        try {
            Path absolute = Path.of(path).toAbsolutePath().normalize();
            Path root = projectDir.toAbsolutePath().normalize();
            if (!absolute.startsWith(root)) {
                return null;
            }
            return root.relativize(absolute).toString().replace('\\', '/');
        } catch (java.nio.file.InvalidPathException error) {
            return null;
        }
    }
}
