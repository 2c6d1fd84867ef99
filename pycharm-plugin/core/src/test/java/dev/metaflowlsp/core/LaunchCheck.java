package dev.metaflowlsp.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Run by tests/test_pycharm_bundle.py (not a JUnit test): {@code LaunchCheck <interpreter> <plugin folder>
 * <strategy>} probes the real interpreter as the plugin does and prints the decision as one JSON line, so the test
 * starts exactly that process.
 */
public final class LaunchCheck {
    public static void main(String[] argv) {
        Path plugin = Path.of(argv[1]);
        ServerLaunch.Decision decision = ServerLaunch.decide(argv[0],
                ServerLaunch.runProbe(argv[0], plugin, Duration.ofSeconds(30)), plugin,
                ServerLaunch.ImportStrategy.fromId(argv[2]), Files::isDirectory);
        if (decision instanceof ServerLaunch.Problem problem) {
            System.out.println("{\"problem\": " + ServerSpecsCheck.quote(problem.message()) + "}");
            return;
        }
        ServerLaunch.Start start = (ServerLaunch.Start) decision;
        StringBuilder command = new StringBuilder("[");
        for (String part : start.command()) {
            command.append(command.length() > 1 ? ", " : "").append(ServerSpecsCheck.quote(part));
        }
        System.out.println("{\"command\": " + command + "], \"cwd\": " + ServerSpecsCheck.quote(start.workingDirectory())
                + ", \"env\": " + ServerSpecsCheck.envJson(start.env()) + ", \"source\": "
                + ServerSpecsCheck.quote(start.source()) + "}");
    }
}
