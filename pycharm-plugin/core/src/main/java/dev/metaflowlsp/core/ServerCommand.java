package dev.metaflowlsp.core;

import java.util.List;

/**
 * How the language server is started: {@code <interpreter> -m metaflow_lsp} on stdio, with the interpreter of the
 * project's Python SDK, else {@code python3} ({@code python} on Windows, where {@code python3} is usually absent).
 * Never a shell line: the IDE side passes this list to {@code GeneralCommandLine}.
 */
public final class ServerCommand {
    public static final String MODULE = "metaflow_lsp";

    private ServerCommand() {
    }

    /**
     * @param sdkHomePath the SDK's interpreter path ({@code Sdk.getHomePath()}, which for a Python SDK is the
     *                    executable), or null
     * @param isPythonSdk whether that SDK is a Python SDK (a Java project SDK must not be used)
     * @param osName      {@code System.getProperty("os.name")}
     */
    public static String interpreter(String sdkHomePath, boolean isPythonSdk, String osName) {
        if (isPythonSdk && sdkHomePath != null && !sdkHomePath.isBlank()) {
            return sdkHomePath;
        }
        return osName != null && osName.toLowerCase(java.util.Locale.ROOT).startsWith("windows") ? "python" : "python3";
    }

    /** The full command: interpreter, {@code -m}, the module. */
    public static List<String> command(String interpreter) {
        if (interpreter == null || interpreter.isBlank()) {
            throw new IllegalArgumentException("no interpreter");
        }
        return List.of(interpreter, "-m", MODULE);
    }
}
