package dev.metaflowlsp.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The one-string form of an argument list that PyCharm keeps in a Python run configuration's "Parameters"
 * ({@code PARAMETERS} in {@code .run.xml}), written so that IntelliJ's
 * {@code com.intellij.util.execution.ParametersListUtil.parse(String)} gives back exactly the original list.
 *
 * <p>Rules of {@code ParametersListUtil} (platform/util, read from the IntelliJ Community sources):
 * <ul>
 *   <li>parse: surrounding whitespace is trimmed; whitespace ({@link Character#isWhitespace}) outside double quotes
 *       separates arguments; double quotes group and are dropped; {@code \"} is a literal quote; any other
 *       backslash is literal; {@code ""} is an empty argument.</li>
 *   <li>escape (used by {@code join}): every {@code "} becomes {@code \"}; an empty argument or one holding a space
 *       or {@code |} is wrapped in double quotes, with trailing backslashes moved outside the closing quote.</li>
 * </ul>
 *
 * <p>One deliberate difference in {@link #escape}: an argument holding any other whitespace (tab, newline) is
 * quoted too. IntelliJ's own {@code escape} leaves it bare and its {@code parse} then splits it in two; quoting it is
 * what {@code parse} needs to read it back whole. For arguments without such characters the output is the same as
 * IntelliJ's {@code join}.
 *
 * <p>Not handled here: PyCharm expands path macros such as {@code $PROJECT_DIR$} in parameters before it starts
 * the process. A Metaflow argument of the form {@code $NAME$} is therefore not guaranteed to reach the flow as is.
 */
public final class ParametersList {
    private ParametersList() {
    }

    /** One argument, quoted and escaped as needed. */
    public static String escape(String argument) {
        StringBuilder builder = new StringBuilder(argument.length() + 2);
        for (int i = 0; i < argument.length(); i++) {
            char c = argument.charAt(i);
            if (c == '"') {
                builder.append('\\');
            }
            builder.append(c);
        }
        if (builder.length() == 0 || needsQuotes(argument)) {
            int end = builder.length();
            while (end > 0 && builder.charAt(end - 1) == '\\') {
                end--;
            }
            int trailingBackslashes = builder.length() - end;
            builder.setLength(end);
            // A trailing backslash inside the quotes would make the closing quote literal: keep it outside.
            builder.insert(0, '"').append('"');
            builder.append("\\".repeat(trailingBackslashes));
        }
        return builder.toString();
    }

    private static boolean needsQuotes(String argument) {
        for (int i = 0; i < argument.length(); i++) {
            char c = argument.charAt(i);
            if (c == '|' || Character.isWhitespace(c)) {
                return true;
            }
        }
        return false;
    }

    /** The arguments as one string, separated by single spaces. */
    public static String join(List<String> arguments) {
        StringBuilder out = new StringBuilder();
        for (String argument : arguments) {
            if (argument == null) {
                throw new IllegalArgumentException("an argument is null");
            }
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(escape(argument));
        }
        return out.toString();
    }

    /**
     * Splits a parameters string the way {@code ParametersListUtil.parse(string)} does (no quotes kept, double
     * quotes only, empty parameters only when written as {@code ""}).
     */
    public static List<String> parse(String parameters) {
        String string = parameters.trim();
        List<String> result = new ArrayList<>();
        if (string.isEmpty()) {
            return result;
        }
        StringBuilder token = new StringBuilder();
        boolean inQuotes = false;
        boolean escapedQuote = false;
        boolean nonEmpty = false;
        for (int i = 0; i < string.length(); i++) {
            char c = string.charAt(i);
            if (c == '"') {
                if (!escapedQuote) {
                    inQuotes = !inQuotes;
                    nonEmpty = true;
                    continue;
                }
                escapedQuote = false;
            } else if (Character.isWhitespace(c)) {
                if (!inQuotes) {
                    if (token.length() > 0 || nonEmpty) {
                        result.add(token.toString());
                        token.setLength(0);
                        nonEmpty = false;
                    }
                    continue;
                }
            } else if (c == '\\' && i < string.length() - 1 && string.charAt(i + 1) == '"') {
                escapedQuote = true;
                continue;
            }
            token.append(c);
        }
        if (token.length() > 0 || nonEmpty) {
            result.add(token.toString());
        }
        return result;
    }
}
