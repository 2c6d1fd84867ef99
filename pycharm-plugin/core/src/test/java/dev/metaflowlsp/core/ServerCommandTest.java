package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;

import java.util.Map;
import org.junit.Test;

public class ServerCommandTest {
    @Test
    public void usesThePythonSdkInterpreter() {
        assertEquals("/proj/.venv/bin/python", ServerCommand.interpreter("/proj/.venv/bin/python", true, "Linux"));
    }

    @Test
    public void fallsBackWithoutAPythonSdk() {
        assertEquals("python3", ServerCommand.interpreter(null, false, "Linux"));
        assertEquals("python3", ServerCommand.interpreter("/usr/lib/jvm/java-21", false, "Mac OS X"));
        assertEquals("python3", ServerCommand.interpreter("  ", true, "Linux"));
        assertEquals("python", ServerCommand.interpreter(null, false, "Windows 11"));
    }

    @Test
    public void anUntrustedProjectsOwnInterpreterIsNotRun() {
        assertEquals("python3", ServerCommand.interpreter("/proj/.venv/bin/python", true, "Linux", "/proj", false));
        assertEquals("python3", ServerCommand.interpreter("/proj/sub/../.venv/bin/python", true, "Linux", "/proj",
                false));
        assertEquals("/usr/bin/python3.12", ServerCommand.interpreter("/usr/bin/python3.12", true, "Linux", "/proj",
                false));
        assertEquals("/proj2/bin/python", ServerCommand.interpreter("/proj2/bin/python", true, "Linux", "/proj", false));
        assertEquals("/proj/.venv/bin/python", ServerCommand.interpreter("/proj/.venv/bin/python", true, "Linux",
                "/proj", true));
    }

    @Test
    public void theServerIsToldWhetherTheProjectIsTrusted() {
        assertEquals(Map.of("trusted", false), ServerCommand.initializationOptions(false));
        assertEquals(Map.of("trusted", true), ServerCommand.initializationOptions(true));
    }
}
