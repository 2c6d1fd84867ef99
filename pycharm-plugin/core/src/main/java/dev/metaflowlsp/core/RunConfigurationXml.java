package dev.metaflowlsp.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A {@link RunConfigurationModel} as PyCharm's {@code .run/<name>.run.xml}: byte for byte the file
 * {@code metaflow-lsp run-configs} writes for the same RunSpec (server/metaflow_lsp/launch/configs.py,
 * {@code pycharm_configuration}; tests/test_pycharm_plugin.py compares them). So the configuration a lens creates
 * and the one the CLI writes are one model: these options are exactly what {@code FlowLauncher} sets on the
 * {@code PythonRunConfiguration} (script, parameters, working directory, parent environment, variables, the module's
 * interpreter).
 */
public final class RunConfigurationXml {
    private RunConfigurationXml() {
    }

    /** The options after PARENT_ENVS and the variables, in the file's order. */
    public static List<Map.Entry<String, String>> options(RunConfigurationModel model, Path projectDir) {
        return List.of(
                Map.entry("SDK_HOME", ""), // empty with IS_MODULE_SDK: the interpreter of the flow file's module
                Map.entry("IS_MODULE_SDK", "true"),
                Map.entry("WORKING_DIRECTORY", projectRelative(model.workingDirectory(), projectDir)),
                Map.entry("SCRIPT_NAME", projectRelative(model.scriptPath(), projectDir)),
                Map.entry("PARAMETERS", model.parameters()),
                Map.entry("SHOW_COMMAND_LINE", "false"),
                Map.entry("EMULATE_TERMINAL", "false"),
                Map.entry("MODULE_MODE", "false"));
    }

    public static String render(RunConfigurationModel model, Path projectDir) {
        StringBuilder out = new StringBuilder();
        out.append("<component name=\"ProjectRunConfigurationManager\">\n");
        out.append("  <configuration default=\"false\" name=\"").append(attribute(model.name()))
                .append("\" type=\"PythonConfigurationType\" factoryName=\"Python\">\n");
        out.append("    <option name=\"PARENT_ENVS\" value=\"").append(model.passParentEnvs()).append("\" />\n");
        out.append("    <envs>");
        for (Map.Entry<String, String> variable : model.env().entrySet()) {
            out.append("\n      <env name=\"").append(attribute(variable.getKey())).append("\" value=\"")
                    .append(attribute(variable.getValue())).append("\" />");
        }
        out.append("\n    </envs>\n");
        for (Map.Entry<String, String> option : options(model, projectDir)) {
            out.append("    <option name=\"").append(option.getKey()).append("\" value=\"")
                    .append(attribute(option.getValue())).append("\" />\n");
        }
        out.append("    <method v=\"2\" />\n  </configuration>\n</component>\n");
        return out.toString();
    }

    /**
     * {@code $PROJECT_DIR$/relative/path} for a path inside the project (PyCharm expands the macro when it loads the
     * file), else the path itself.
     */
    public static String projectRelative(String path, Path projectDir) {
        String relative = RunConfigurationModel.relativePath(path, projectDir);
        if (relative == null) {
            return path;
        }
        return relative.isEmpty() ? "$PROJECT_DIR$" : "$PROJECT_DIR$/" + relative;
    }

    /** XML attribute text: markup characters and the whitespace an attribute would otherwise lose. */
    static String attribute(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\n' -> out.append("&#10;");
                case '\r' -> out.append("&#13;");
                case '\t' -> out.append("&#9;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
