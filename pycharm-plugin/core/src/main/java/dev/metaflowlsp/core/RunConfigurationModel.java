package dev.metaflowlsp.core;

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

    /** The same configuration named after its file too, for when another flow file already uses the plain name. */
    public RunConfigurationModel withFileInName() {
        String file = fileName(scriptPath);
        String base = name.endsWith(")") ? name.substring(0, name.length() - 1) : name;
        return new RunConfigurationModel(base + ", " + file + ")", scriptPath, arguments, parameters, workingDirectory,
                env, passParentEnvs, executor, followSubprocesses);
    }

    private static String fileName(String path) {
        int slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
        return path.substring(slash + 1);
    }
}
