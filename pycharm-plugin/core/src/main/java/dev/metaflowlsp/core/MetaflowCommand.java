package dev.metaflowlsp.core;

/**
 * The client-side commands the server's code lenses name. LSP4IJ sends a command the server does not advertise to
 * the IDE action whose id equals the command id, so each of these ids is also an {@code <action id>} in the plugin's
 * XML (checked by tests/test_pycharm_plugin.py against the server and the VS Code extension).
 */
public enum MetaflowCommand {
    RUN_TEST_MODE("metaflow.runTestMode", Executor.RUN, "test mode"),
    DEBUG_FOREACH("metaflow.debugForeach", Executor.DEBUG, "foreach debug"),
    RESUME("metaflow.resume", Executor.RUN, "resume"),
    SPIN("metaflow.spin", Executor.RUN, "spin");

    /** Which IntelliJ executor starts the configuration: DefaultRunExecutor or DefaultDebugExecutor. */
    public enum Executor {
        RUN,
        DEBUG
    }

    private final String id;
    private final Executor executor;
    private final String label;

    MetaflowCommand(String id, Executor executor, String label) {
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

    /** The command with this id; throws with a message worth showing when there is none. */
    public static MetaflowCommand fromId(String id) {
        for (MetaflowCommand command : values()) {
            if (command.id.equals(id)) {
                return command;
            }
        }
        throw new RunSpecException("Metaflow: unknown command \"" + id + "\".");
    }
}
