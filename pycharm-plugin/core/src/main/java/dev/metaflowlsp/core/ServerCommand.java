package dev.metaflowlsp.core;

import java.nio.file.Path;
import java.util.Map;

/**
 * Which interpreter starts the language server ({@link ServerLaunch} decides the rest): the project's Python SDK,
 * else {@code python3} ({@code python} on Windows, where {@code python3} is usually absent).
 *
 * <p>Never in the project's folder: {@code python -m} puts the working directory first on {@code sys.path}, so a
 * {@code tomllib.py} in the project would run before the server's first line. The IDE side starts it in the
 * plugin's own folder. In an untrusted project an SDK inside the project (a {@code .venv} it ships) is not used,
 * and the server is told ({@link #initializationOptions}) so that it offers nothing that runs
 * (docs/dev/security.md).
 */
public final class ServerCommand {
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

    /**
     * As {@link #interpreter(String, boolean, String)}, but in an untrusted project an SDK inside {@code projectDir}
     * is the project's own program and is not run: the fallback is used instead.
     */
    public static String interpreter(String sdkHomePath, boolean isPythonSdk, String osName, String projectDir,
                                     boolean trusted) {
        boolean projectsOwn = !trusted && sdkHomePath != null && projectDir != null && inside(sdkHomePath, projectDir);
        return interpreter(projectsOwn ? null : sdkHomePath, isPythonSdk && !projectsOwn, osName);
    }

    static boolean inside(String path, String folder) {
        try {
            return Path.of(path).toAbsolutePath().normalize().startsWith(Path.of(folder).toAbsolutePath().normalize());
        } catch (java.nio.file.InvalidPathException error) {
            return true; // a path that cannot be read is not trusted either
        }
    }

    /** The server's {@code initializationOptions}: whether the project is trusted. */
    public static Map<String, Object> initializationOptions(boolean trusted) {
        return Map.of("trusted", trusted);
    }
}
