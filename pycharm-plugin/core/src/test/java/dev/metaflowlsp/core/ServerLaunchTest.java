package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.metaflowlsp.core.ServerLaunch.Decision;
import dev.metaflowlsp.core.ServerLaunch.ImportStrategy;
import dev.metaflowlsp.core.ServerLaunch.Problem;
import dev.metaflowlsp.core.ServerLaunch.ProbeRun;
import dev.metaflowlsp.core.ServerLaunch.Start;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.Test;

public class ServerLaunchTest {
    private static final Path PLUGIN = Path.of("/ide/plugins/metaflow-lsp-pycharm");
    private static final String PYTHON = "/proj/.venv/bin/python";
    private static final Path LIBS = PLUGIN.resolve("server/libs");
    private static final Path LINUX_312 = PLUGIN.resolve("server/native/linux-x64/cp312");
    /** What the release zip holds (for these tests: one platform folder). */
    private static final Predicate<Path> RELEASE = Set.of(LIBS, LINUX_312)::contains;
    private static final Predicate<Path> NO_BUNDLE = path -> false;

    private static ProbeRun probe(String json) {
        return new ProbeRun(true, 0, "some banner\n" + json + "\n", "");
    }

    private static final ProbeRun LINUX_312_EMPTY =
            probe("{\"version\": [3, 12], \"platform\": \"linux\", \"machine\": \"x86_64\", \"hasServer\": false}");
    private static final ProbeRun LINUX_312_INSTALLED =
            probe("{\"version\": [3, 12], \"platform\": \"linux\", \"machine\": \"x86_64\", \"hasServer\": true}");

    private static Start start(Decision decision) {
        assertTrue(String.valueOf(decision), decision instanceof Start);
        return (Start) decision;
    }

    private static String problem(Decision decision) {
        assertTrue(String.valueOf(decision), decision instanceof Problem);
        return ((Problem) decision).message();
    }

    @Test
    public void theBundleRunsWithAnEmptyInterpreter() {
        Start start = start(ServerLaunch.decide(PYTHON, LINUX_312_EMPTY, PLUGIN, ImportStrategy.USE_BUNDLED, RELEASE));
        assertEquals(List.of(PYTHON, "-m", "metaflow_lsp"), start.command());
        assertEquals(PLUGIN.toString(), start.workingDirectory()); // never the project's folder
        assertEquals(Map.of("PYTHONPATH", LINUX_312 + ":" + LIBS, "PYTHONIOENCODING", "utf-8"), start.env());
        assertEquals("bundled server", start.source());
    }

    @Test
    public void theBundleIsTheDefaultEvenWhenTheInterpreterHasItsOwnServer() {
        Start start = start(ServerLaunch.decide(PYTHON, LINUX_312_INSTALLED, PLUGIN, ImportStrategy.USE_BUNDLED,
                RELEASE));
        assertEquals(LINUX_312 + ":" + LIBS, start.env().get("PYTHONPATH"));
    }

    @Test
    public void fromEnvironmentRunsTheInterpretersOwnServer() {
        Start start = start(ServerLaunch.decide(PYTHON, LINUX_312_INSTALLED, PLUGIN, ImportStrategy.FROM_ENVIRONMENT,
                RELEASE));
        assertEquals(Map.of("PYTHONIOENCODING", "utf-8"), start.env()); // no PYTHONPATH of ours
        assertEquals("metaflow_lsp installed in " + PYTHON, start.source());
    }

    @Test
    public void fromEnvironmentWithoutAnInstalledServerFallsBackToTheBundle() {
        Start start = start(ServerLaunch.decide(PYTHON, LINUX_312_EMPTY, PLUGIN, ImportStrategy.FROM_ENVIRONMENT,
                RELEASE));
        assertEquals(LINUX_312 + ":" + LIBS, start.env().get("PYTHONPATH"));
        assertEquals("bundled server; " + PYTHON + " has no metaflow_lsp of its own", start.source());
    }

    @Test
    public void aPythonOrPlatformWithoutNativeWheelsStillGetsThePurePythonServer() {
        Start newer = start(ServerLaunch.decide(PYTHON, probe(
                "{\"version\": [3, 14], \"platform\": \"linux\", \"machine\": \"x86_64\", \"hasServer\": false}"),
                PLUGIN, ImportStrategy.USE_BUNDLED, RELEASE));
        assertEquals(LIBS.toString(), newer.env().get("PYTHONPATH"));
        assertEquals("bundled server (no bundled libcst for Python 3.14 on linux x86_64)", newer.source());
        Start riscv = start(ServerLaunch.decide(PYTHON, probe(
                "{\"version\": [3, 12], \"platform\": \"linux\", \"machine\": \"riscv64\", \"hasServer\": false}"),
                PLUGIN, ImportStrategy.USE_BUNDLED, RELEASE));
        assertEquals(LIBS.toString(), riscv.env().get("PYTHONPATH"));
    }

    @Test
    public void windowsSeparatesThePathWithSemicolons() {
        Path windowsNative = PLUGIN.resolve("server/native/win32-x64/cp311");
        Start start = start(ServerLaunch.decide("C:\\Python311\\python.exe", probe(
                "{\"version\": [3, 11], \"platform\": \"win32\", \"machine\": \"AMD64\", \"hasServer\": false}"),
                PLUGIN, ImportStrategy.USE_BUNDLED, Set.of(LIBS, windowsNative)::contains));
        assertEquals(windowsNative + ";" + LIBS, start.env().get("PYTHONPATH"));
    }

    @Test
    public void theBundlesPlatformFolderComesFromTheInterpreter() {
        assertEquals("linux-x64", ServerLaunch.target(new ServerLaunch.Facts(3, 12, "linux", "x86_64", false)));
        assertEquals("linux-arm64", ServerLaunch.target(new ServerLaunch.Facts(3, 12, "linux", "aarch64", false)));
        assertEquals("darwin-arm64", ServerLaunch.target(new ServerLaunch.Facts(3, 12, "darwin", "arm64", false)));
        // An x86_64 Python under Rosetta on an arm64 Mac: the x64 wheels.
        assertEquals("darwin-x64", ServerLaunch.target(new ServerLaunch.Facts(3, 12, "darwin", "x86_64", false)));
        assertEquals("win32-x64", ServerLaunch.target(new ServerLaunch.Facts(3, 12, "win32", "AMD64", false)));
        assertEquals(null, ServerLaunch.target(new ServerLaunch.Facts(3, 12, "freebsd14", "amd64", false)));
    }

    @Test
    public void aMissingInterpreterIsOneMessageWithTheFix() {
        assertEquals("Metaflow LSP: the Python interpreter /nowhere/python does not exist. Choose a Python 3.10 or "
                        + "newer interpreter in Settings | Project | Python Interpreter.",
                problem(ServerLaunch.decide("/nowhere/python", new ProbeRun(false, -1, "", ""), PLUGIN,
                        ImportStrategy.USE_BUNDLED, RELEASE)));
    }

    @Test
    public void aTooOldInterpreterIsOneMessageWithTheFix() {
        assertEquals("Metaflow LSP needs Python 3.10 or newer; /usr/bin/python3.8 is Python 3.8. Choose a Python 3.10 "
                        + "or newer interpreter in Settings | Project | Python Interpreter.",
                problem(ServerLaunch.decide("/usr/bin/python3.8", probe(
                        "{\"version\": [3, 8], \"platform\": \"linux\", \"machine\": \"x86_64\", \"hasServer\": false}"),
                        PLUGIN, ImportStrategy.USE_BUNDLED, RELEASE)));
    }

    @Test
    public void notAPython3IsOneMessageWithTheReason() {
        String message = problem(ServerLaunch.decide("/usr/bin/python2", new ProbeRun(true, 1, "",
                "  File \"<string>\", line 1\nSyntaxError: invalid syntax\n"), PLUGIN, ImportStrategy.USE_BUNDLED,
                RELEASE));
        assertEquals("Metaflow LSP cannot use /usr/bin/python2 as a Python 3 interpreter (SyntaxError: invalid "
                + "syntax). Choose a Python 3.10 or newer interpreter in Settings | Project | Python Interpreter.",
                message);
        assertTrue(problem(ServerLaunch.decide("/bin/true", new ProbeRun(true, 0, "", ""), PLUGIN,
                ImportStrategy.USE_BUNDLED, RELEASE)).contains("(exit code 0)"));
    }

    @Test
    public void aBuildWithoutTheBundleNeedsAnInstalledServer() {
        assertTrue(problem(ServerLaunch.decide(PYTHON, LINUX_312_EMPTY, PLUGIN, ImportStrategy.USE_BUNDLED, NO_BUNDLE))
                .contains("this build of the plugin has no bundled server"));
        assertEquals("metaflow_lsp installed in " + PYTHON, start(ServerLaunch.decide(PYTHON, LINUX_312_INSTALLED,
                PLUGIN, ImportStrategy.USE_BUNDLED, NO_BUNDLE)).source());
    }

    @Test
    public void theProbeAsksOnlyTheStandardLibrary() {
        assertEquals(List.of(PYTHON, "-c", ServerLaunch.PROBE), ServerLaunch.probeCommand(PYTHON));
        assertThrows(IllegalArgumentException.class, () -> ServerLaunch.readProbe("{\"version\": \"3.12\"}"));
        assertThrows(IllegalArgumentException.class, () -> ServerLaunch.readProbe("Python 3.12.1"));
    }

    @Test
    public void strategiesKeepVsCodesNames() {
        assertEquals(ImportStrategy.FROM_ENVIRONMENT, ImportStrategy.fromId("fromEnvironment"));
        assertEquals(ImportStrategy.USE_BUNDLED, ImportStrategy.fromId("useBundled"));
        assertEquals(ImportStrategy.USE_BUNDLED, ImportStrategy.fromId(null));
    }
}
