package dev.metaflowlsp.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the server asks the editor to run (server/metaflow_lsp/launch/runspec.py, {@code RunSpec.to_json}):
 * {@code python <script> <args...>} in {@code cwd}, with {@code env} added to the inherited environment. The
 * interpreter is not part of it: PyCharm runs it with the project's Python interpreter.
 *
 * <p>{@link #parse} checks what arrives as the code lens command's first argument and throws a
 * {@link RunSpecException} whose message can be shown to the user as is (the same messages as the VS Code
 * extension's {@code parseRunSpec}). Keys it does not know are ignored, so a newer server still works.
 */
public record RunSpec(
        String title,
        String kind,
        String flow,
        String script,
        List<String> args,
        String cwd,
        Map<String, String> env,
        boolean debug,
        Map<String, Object> debugger,
        String testOption) {

    public static final String KIND_TEST_MODE = "testMode";
    public static final String KIND_DEBUG_FOREACH = "debugForeach";
    public static final String KIND_RESUME = "resume";
    public static final String KIND_SPIN = "spin";

    /** POSIX absolute, Windows drive absolute (C:\ or C:/) or UNC (\\server\share). */
    private static final Pattern ABSOLUTE = Pattern.compile("^(/|[A-Za-z]:[\\\\/]|\\\\\\\\).*", Pattern.DOTALL);

    public RunSpec {
        args = List.copyOf(args);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        debugger = debugger == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(debugger));
    }

    /** Reads a RunSpec from its JSON text (LSP4IJ hands the argument over as a Gson element; its toString is JSON). */
    public static RunSpec parse(String json) {
        if (json == null || json.isBlank()) {
            throw new RunSpecException("Metaflow: the command needs a run specification from the server.");
        }
        Object value;
        try {
            value = Json.parse(json);
        } catch (Json.JsonException error) {
            throw new RunSpecException("Metaflow: the run specification is not valid JSON (" + error.getMessage() + ").",
                    error);
        }
        return fromValue(value);
    }

    /** Checks a parsed JSON value (see {@link Json#parse}). */
    public static RunSpec fromValue(Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new RunSpecException("Metaflow: the command needs a run specification from the server.");
        }
        String title = requiredString(map, "title");
        String flow = requiredString(map, "flow");
        String script = requiredString(map, "script");
        String cwd = requiredString(map, "cwd");
        for (String key : List.of("script", "cwd")) {
            String path = (String) map.get(key);
            if (!ABSOLUTE.matcher(path).matches()) {
                throw new RunSpecException("Metaflow: the run specification's " + key + " must be an absolute path: "
                        + path);
            }
        }

        Object rawArgs = map.get("args");
        if (!(rawArgs instanceof List<?> list)) {
            throw new RunSpecException("Metaflow: the run specification's args must be a list of strings.");
        }
        List<String> args = new ArrayList<>(list.size());
        for (Object item : list) {
            if (!(item instanceof String argument)) {
                throw new RunSpecException("Metaflow: the run specification's args must be a list of strings.");
            }
            args.add(noNul(argument, "args"));
        }

        Map<String, String> env = new LinkedHashMap<>();
        Object rawEnv = map.get("env");
        if (rawEnv != null) {
            if (!(rawEnv instanceof Map<?, ?> envMap)) {
                throw new RunSpecException("Metaflow: the run specification's env must map names to strings.");
            }
            for (Map.Entry<?, ?> entry : envMap.entrySet()) {
                String name = (String) entry.getKey();
                if (!(entry.getValue() instanceof String variable)) {
                    throw new RunSpecException("Metaflow: the run specification's env must map names to strings.");
                }
                if (name.isEmpty() || name.indexOf('=') >= 0) {
                    throw new RunSpecException("Metaflow: the run specification's env has an invalid variable name: \""
                            + name + "\".");
                }
                env.put(noNul(name, "env"), noNul(variable, "env"));
            }
        }

        String kind = optionalString(map, "kind", KIND_TEST_MODE);
        Object rawDebug = map.get("debug");
        if (rawDebug != null && !(rawDebug instanceof Boolean)) {
            throw new RunSpecException("Metaflow: the run specification's debug must be true or false.");
        }
        boolean debug = Boolean.TRUE.equals(rawDebug);

        Object rawDebugger = map.get("debugger");
        Map<String, Object> debugger = null;
        if (rawDebugger != null) {
            if (!(rawDebugger instanceof Map<?, ?> debuggerMap)) {
                throw new RunSpecException("Metaflow: the run specification's debugger must be an object.");
            }
            debugger = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : debuggerMap.entrySet()) {
                debugger.put((String) entry.getKey(), entry.getValue());
            }
        }
        String testOption = optionalString(map, "testOption", null);

        return new RunSpec(title, kind, flow, noNul(script, "script"), args, noNul(cwd, "cwd"), env, debug, debugger,
                testOption);
    }

    private static String requiredString(Map<?, ?> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof String text) || text.isEmpty()) {
            throw new RunSpecException("Metaflow: the run specification has no " + key + ".");
        }
        return text;
    }

    private static String optionalString(Map<?, ?> map, String key, String fallback) {
        Object value = map.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof String text)) {
            throw new RunSpecException("Metaflow: the run specification's " + key + " must be a string.");
        }
        return text;
    }

    /** A process argument or environment entry cannot hold NUL: refuse it here rather than fail at start. */
    private static String noNul(String text, String key) {
        if (text.indexOf('\0') >= 0) {
            throw new RunSpecException("Metaflow: the run specification's " + key + " contains a NUL character.");
        }
        return text;
    }
}
