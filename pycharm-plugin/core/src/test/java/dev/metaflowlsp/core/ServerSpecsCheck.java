package dev.metaflowlsp.core;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Run by tests/test_pycharm_plugin.py (not a JUnit test): reads a JSON list of {"command": id, "spec": RunSpec}
 * written by the real server code, and prints one JSON line per entry with the run configuration the plugin would
 * create, so the Python test can compare them with what the server computed, and the .run.xml the core renders for
 * it (and for its file-named variant) with the project folder {@code argv[1]}. Exits 1 when an entry's parameters do
 * not read back as its arguments.
 */
public final class ServerSpecsCheck {
    public static void main(String[] argv) throws Exception {
        String text = Files.readString(Path.of(argv[0]), StandardCharsets.UTF_8);
        Path projectDir = argv.length > 1 ? Path.of(argv[1]) : null;
        int status = 0;
        for (Object entry : (List<?>) Json.parse(text)) {
            Map<?, ?> item = (Map<?, ?>) entry;
            MetaflowCommand command = MetaflowCommand.fromId((String) item.get("command"));
            RunSpec spec = RunSpec.fromValue(item.get("spec"));
            RunConfigurationModel model = RunConfigurationModel.of(spec, command);
            boolean roundTrip = ParametersList.parse(model.parameters()).equals(spec.args());
            if (!roundTrip) {
                status = 1;
            }
            System.out.println("{\"name\": " + quote(model.name()) + ", \"script\": " + quote(model.scriptPath())
                    + ", \"parameters\": " + quote(model.parameters()) + ", \"cwd\": " + quote(model.workingDirectory())
                    + ", \"executor\": " + quote(model.executor().name()) + ", \"followSubprocesses\": "
                    + model.followSubprocesses() + ", \"env\": " + envJson(model.env()) + ", \"roundTrip\": " + roundTrip
                    + ", \"xml\": " + quote(RunConfigurationXml.render(model, projectDir)) + ", \"xmlWithFile\": "
                    + quote(RunConfigurationXml.render(model.withFileInName(projectDir), projectDir)) + "}");
        }
        System.exit(status);
    }

    static String envJson(Map<String, String> env) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, String> entry : env.entrySet()) {
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append(quote(entry.getKey())).append(": ").append(quote(entry.getValue()));
        }
        return out.append('}').toString();
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
