package dev.metaflowlsp.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The client-side commands the server's code lenses name, read from the server's own list,
 * {@code metaflow_lsp/commands.json} (a resource of this jar: core/build.gradle.kts adds it, and
 * tests/test_pycharm_plugin.py puts the server folder on the class path). LSP4IJ sends a command the server does
 * not advertise to the IDE action whose id equals the command id, so each of these ids is also an
 * {@code <action id>} in the plugin's XML (checked by tests/test_pycharm_plugin.py).
 */
public final class MetaflowCommand {
    static final String RESOURCE = "/metaflow_lsp/commands.json";

    /** Which IntelliJ executor starts the configuration: DefaultRunExecutor or DefaultDebugExecutor. */
    public enum Executor {
        RUN,
        DEBUG
    }

    private static final List<MetaflowCommand> ALL = load();

    private final String id;
    private final Executor executor;
    private final String label;

    private MetaflowCommand(String id, Executor executor, String label) {
        this.id = id;
        this.executor = executor;
        this.label = label;
    }

    /** The command id, equal to the IDE action id. */
    public String id() {
        return id;
    }

    public Executor executor() {
        return executor;
    }

    /** What the run configuration's name says in parentheses: "TrainFlow (test mode)". */
    public String label() {
        return label;
    }

    /** Every lens command, in the order of commands.json. */
    public static List<MetaflowCommand> all() {
        return ALL;
    }

    /** The command with this id; throws with a message worth showing when there is none. */
    public static MetaflowCommand fromId(String id) {
        for (MetaflowCommand command : ALL) {
            if (command.id.equals(id)) {
                return command;
            }
        }
        throw new RunSpecException("Metaflow: unknown command \"" + id + "\".");
    }

    private static List<MetaflowCommand> load() {
        String text;
        try (InputStream in = MetaflowCommand.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the plugin");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException error) {
            throw new IllegalStateException("cannot read " + RESOURCE, error);
        }
        List<MetaflowCommand> commands = new ArrayList<>();
        for (Object entry : (List<?>) ((Map<?, ?>) Json.parse(text)).get("lensCommands")) {
            Map<?, ?> command = (Map<?, ?>) entry;
            commands.add(new MetaflowCommand((String) command.get("id"),
                    "debug".equals(command.get("executor")) ? Executor.DEBUG : Executor.RUN,
                    (String) command.get("label")));
        }
        return Collections.unmodifiableList(commands);
    }

    @Override
    public String toString() {
        return id;
    }
}
