package dev.metaflowlsp.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * How the language server process is started, or the one message the user sees when it cannot be: the same choices
 * as the VS Code extension (vscode-extension/src/serverLaunch.ts), decided without IntelliJ so they are unit-tested.
 *
 * <p>The interpreter is asked first ({@link #PROBE}, run in the plugin's folder): its version, its platform and
 * whether it has a metaflow_lsp of its own. Then {@code <interpreter> -m metaflow_lsp} runs in the plugin's folder
 * with the plugin's bundle on PYTHONPATH (the zip's {@code server/} folder, built by {@code make pycharm-bundle}):
 * {@code server/native/<platform>/cp3XX} for the compiled wheels (libcst), then {@code server/libs}. Nothing is
 * installed into the interpreter. With the import strategy {@code fromEnvironment} the interpreter's own
 * metaflow_lsp runs instead, when it has one.
 */
public final class ServerLaunch {
    public static final String MODULE = "metaflow_lsp";
    /** The oldest Python the server runs on (pyproject.toml's requires-python). */
    public static final int MIN_MAJOR = 3;
    public static final int MIN_MINOR = 10;
    /** Imports only the standard library and prints one JSON line. */
    public static final String PROBE = "import importlib.util, json, platform, sys; print(json.dumps({"
            + "\"version\": list(sys.version_info[:2]), \"platform\": sys.platform, \"machine\": platform.machine(), "
            + "\"hasServer\": importlib.util.find_spec(\"metaflow_lsp\") is not None}))";
    /** Where the user fixes an interpreter problem. */
    public static final String INTERPRETER_FIX =
            "Choose a Python " + MIN_MAJOR + "." + MIN_MINOR + " or newer interpreter in Settings | Project | Python "
                    + "Interpreter.";
    public static final String STRATEGY_SETTING = "Settings | Tools | Metaflow LSP";

    private ServerLaunch() {
    }

    /** {@code metaflowLsp.importStrategy} of the VS Code extension, under the same names. */
    public enum ImportStrategy {
        USE_BUNDLED("useBundled"),
        FROM_ENVIRONMENT("fromEnvironment");

        private final String id;

        ImportStrategy(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        @Override
        public String toString() {
            return id;
        }

        /** The strategy of that name; anything else is the default, the bundle. */
        public static ImportStrategy fromId(String id) {
            return FROM_ENVIRONMENT.id.equals(id) ? FROM_ENVIRONMENT : USE_BUNDLED;
        }
    }

    /** What the probe printed. */
    public record Facts(int major, int minor, String platform, String machine, boolean hasServer) {
    }

    /** The probe's run: whether the process started at all, its exit code and output. */
    public record ProbeRun(boolean started, int exitCode, String stdout, String stderr) {
    }

    /** Either a process to start or a problem to show. */
    public sealed interface Decision permits Start, Problem {
    }

    /**
     * @param command          argument list, never a shell line
     * @param workingDirectory the plugin's folder: {@code -m} puts it first on sys.path, so never the project's
     * @param env              added to the inherited environment
     * @param source           where the server's code comes from, for the log
     */
    public record Start(List<String> command, String workingDirectory, Map<String, String> env, String source)
            implements Decision {
        public Start {
            command = List.copyOf(command);
            env = Map.copyOf(env);
        }
    }

    /** A message worth a notification: what is wrong and how to fix it. */
    public record Problem(String message) implements Decision {
    }

    public static List<String> probeCommand(String interpreter) {
        return List.of(interpreter, "-c", PROBE);
    }

    /**
     * Runs the probe in {@code workingDirectory} (the plugin's folder: {@code -c} puts the working directory on
     * sys.path). Not started (no such file, not executable) and timed out are runs too; {@link #decide} words them.
     */
    public static ProbeRun runProbe(String interpreter, Path workingDirectory, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(probeCommand(interpreter)).directory(workingDirectory.toFile()).start();
        } catch (IOException error) {
            return new ProbeRun(false, -1, "", String.valueOf(error.getMessage()));
        }
        try {
            process.getOutputStream().close(); // nothing on its stdin
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return new ProbeRun(true, -1, "", "no answer within " + timeout.toSeconds() + " s");
            }
            // The probe prints one short line: both pipes hold it without being drained while it runs.
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            return new ProbeRun(true, process.exitValue(), stdout, stderr);
        } catch (IOException error) {
            return new ProbeRun(true, -1, "", String.valueOf(error.getMessage()));
        } catch (InterruptedException error) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return new ProbeRun(true, -1, "", "interrupted");
        }
    }

    /** The folders of the bundle inside the plugin's folder. */
    public static Path libs(Path pluginDir) {
        return pluginDir.resolve("server").resolve("libs");
    }

    public static Path nativeFolder(Path pluginDir, String target, Facts facts) {
        return pluginDir.resolve("server").resolve("native").resolve(target).resolve("cp" + facts.major() + facts.minor());
    }

    /**
     * The bundle's platform folder for an interpreter ({@code linux-x64}, {@code darwin-arm64}, {@code win32-x64}...,
     * the names scripts/server_bundle.py writes), or null for a platform the bundle has no wheels for. Read from the
     * interpreter, not the IDE: an x86_64 Python under Rosetta needs the x64 wheels on an arm64 Mac.
     */
    public static String target(Facts facts) {
        String os = switch (facts.platform()) {
            case "linux" -> "linux";
            case "darwin" -> "darwin";
            case "win32" -> "win32";
            default -> null;
        };
        String arch = switch (facts.machine().toLowerCase(Locale.ROOT)) {
            case "x86_64", "amd64" -> "x64";
            case "aarch64", "arm64" -> "arm64";
            default -> null;
        };
        return os == null || arch == null ? null : os + "-" + arch;
    }

    /** The decision for {@code interpreter}, given its probe's run and the plugin's folder. */
    public static Decision decide(String interpreter, ProbeRun probe, Path pluginDir, ImportStrategy strategy,
                                  Predicate<Path> exists) {
        if (!probe.started()) {
            return new Problem("Metaflow LSP: the Python interpreter " + interpreter + " does not exist. "
                    + INTERPRETER_FIX);
        }
        Facts facts;
        try {
            facts = readProbe(probe.stdout());
        } catch (IllegalArgumentException error) { // a Python 2, or not Python at all
            String reason = lastLine(probe.stderr());
            return new Problem("Metaflow LSP cannot use " + interpreter + " as a Python 3 interpreter ("
                    + (reason.isEmpty() ? "exit code " + probe.exitCode() : reason) + "). " + INTERPRETER_FIX);
        }
        if (facts.major() < MIN_MAJOR || (facts.major() == MIN_MAJOR && facts.minor() < MIN_MINOR)) {
            return new Problem("Metaflow LSP needs Python " + MIN_MAJOR + "." + MIN_MINOR + " or newer; " + interpreter
                    + " is Python " + facts.major() + "." + facts.minor() + ". " + INTERPRETER_FIX);
        }
        List<String> command = List.of(interpreter, "-m", MODULE);
        String cwd = pluginDir.toString();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PYTHONIOENCODING", "utf-8");
        Path libs = libs(pluginDir);
        boolean bundled = exists.test(libs);
        if (facts.hasServer() && (strategy == ImportStrategy.FROM_ENVIRONMENT || !bundled)) {
            return new Start(command, cwd, env, "metaflow_lsp installed in " + interpreter);
        }
        if (!bundled) {
            return new Problem("Metaflow LSP: this build of the plugin has no bundled server, and " + interpreter
                    + " has no metaflow_lsp. Install a release of the plugin (built after make pycharm-bundle), or "
                    + "install the server into that interpreter.");
        }
        // A platform or Python the bundle has no compiled wheels for still gets diagnostics (pure Python); only
        // libcst's edits then need the interpreter's own libcst.
        String target = target(facts);
        Path nativeDir = target == null ? null : nativeFolder(pluginDir, target, facts);
        List<String> path = new ArrayList<>();
        if (nativeDir != null && exists.test(nativeDir)) {
            path.add(nativeDir.toString());
        }
        path.add(libs.toString());
        env.put("PYTHONPATH", String.join("win32".equals(facts.platform()) ? ";" : ":", path));
        String note = path.size() == 2 ? "" : " (no bundled libcst for Python " + facts.major() + "." + facts.minor()
                + " on " + facts.platform() + " " + facts.machine() + ")";
        String fallback = strategy == ImportStrategy.FROM_ENVIRONMENT
                ? "; " + interpreter + " has no metaflow_lsp of its own" : "";
        return new Start(command, cwd, env, "bundled server" + note + fallback);
    }

    /** The probe's JSON line (the last line of its output). */
    public static Facts readProbe(String stdout) {
        Object value = Json.parse(lastLine(stdout == null ? "" : stdout));
        if (!(value instanceof Map<?, ?> facts) || !(facts.get("version") instanceof List<?> version)
                || version.size() != 2 || !(version.get(0) instanceof Number major)
                || !(version.get(1) instanceof Number minor)) {
            throw new IllegalArgumentException("no version in the probe's output");
        }
        return new Facts(major.intValue(), minor.intValue(), text(facts.get("platform")), text(facts.get("machine")),
                Boolean.TRUE.equals(facts.get("hasServer")));
    }

    private static String text(Object value) {
        return value instanceof String string ? string : "";
    }

    private static String lastLine(String text) {
        String[] lines = (text == null ? "" : text).strip().split("\n");
        return lines[lines.length - 1].strip();
    }
}
