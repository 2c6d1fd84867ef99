package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.Test;

public class ParametersListTest {
    private static void assertRoundTrip(String... arguments) {
        List<String> list = Arrays.asList(arguments);
        String joined = ParametersList.join(list);
        assertEquals("round trip of " + list + " through [" + joined + "]", list, ParametersList.parse(joined));
    }

    @Test
    public void plainArgumentsStayAsTheyAre() {
        assertEquals("--no-pylint run --test_mode 1 --max-workers 1 --tag ide-test-run",
                ParametersList.join(List.of("--no-pylint", "run", "--test_mode", "1", "--max-workers", "1", "--tag",
                        "ide-test-run")));
        assertEquals("--environment=pypi spin TrainFlow/12/train",
                ParametersList.join(List.of("--environment=pypi", "spin", "TrainFlow/12/train")));
        assertEquals("", ParametersList.join(List.of()));
    }

    @Test
    public void quotesLikeIntellijJoin() {
        // The examples of ParametersListUtil's documentation and behaviour of its escape().
        assertEquals("a b", ParametersList.join(List.of("a", "b")));
        assertEquals("\"a=\\\"1 2\\\"\" b", ParametersList.join(List.of("a=\"1 2\"", "b")));
        assertEquals("\"\"", ParametersList.join(List.of("")));
        assertEquals("\"my flows/train.py\"", ParametersList.join(List.of("my flows/train.py")));
        assertEquals("say\\\"hi\\\"", ParametersList.join(List.of("say\"hi\"")));
        assertEquals("\"a|b\"", ParametersList.join(List.of("a|b")));
        assertEquals("$HOME", ParametersList.join(List.of("$HOME")));
        assertEquals("it's", ParametersList.join(List.of("it's")));
        // A trailing backslash stays outside the closing quote.
        assertEquals("\"C:\\my dir\"\\", ParametersList.join(List.of("C:\\my dir\\")));
    }

    @Test
    public void quotesTabsAndNewlinesWhichIntellijWouldSplit() {
        assertEquals("\"a\tb\"", ParametersList.escape("a\tb"));
        assertEquals("\"line1\nline2\"", ParametersList.escape("line1\nline2"));
    }

    @Test
    public void parsesLikeIntellijParse() {
        assertEquals(List.of("a", "b"), ParametersList.parse(" a  b "));
        assertEquals(List.of("a=1 2", "b"), ParametersList.parse("a=\"1 2\" b"));
        assertEquals(List.of("a", " ", "b"), ParametersList.parse("a \" \" b"));
        // (ParametersListUtil's javadoc shows this example with "a=" in the result; its code gives "a ".)
        assertEquals(List.of("a \"1 2\"", "b"), ParametersList.parse("\"a \\\"1 2\\\"\" b"));
        assertEquals(List.of("", "x"), ParametersList.parse("\"\" x"));
        assertEquals(Collections.emptyList(), ParametersList.parse("   "));
        // Single quotes are not quotes for PyCharm's parameters; backslashes not before a quote are literal.
        assertEquals(List.of("'a", "b'"), ParametersList.parse("'a b'"));
        assertEquals(List.of("C:\\dir\\file.py"), ParametersList.parse("C:\\dir\\file.py"));
    }

    @Test
    public void roundTripsAwkwardArguments() {
        assertRoundTrip("with space", "\"quoted\"", "it's", "$HOME", "${VAR}", "$PROJECT_DIR", "", "a|b");
        assertRoundTrip("", "", "");
        assertRoundTrip("trailing\\", "trailing space\\", "\\", "\\\\", " \\", "\\\"", "a \\\"b\\\" c");
        assertRoundTrip("\"", "\"\"", "\" \"", "a\"b c\"d", "\\\" \\");
        assertRoundTrip("tab\there", "new\nline", " leading", "trailing ", "   ");
        assertRoundTrip("--tag", "ide test run", "--origin-run-id", "1699999999999", "caf\u00e9", "\u20ac");
    }

    @Test
    public void roundTripsRandomArguments() {
        // Every character that means something to the parser, mixed with ordinary ones.
        char[] alphabet = {'a', 'b', ' ', ' ', '"', '\\', '$', '\'', '|', '\t', '\n', '=', '-'};
        Random random = new Random(20240601);
        for (int round = 0; round < 20000; round++) {
            List<String> arguments = new ArrayList<>();
            int count = random.nextInt(4) + 1;
            for (int i = 0; i < count; i++) {
                StringBuilder argument = new StringBuilder();
                int length = random.nextInt(7);
                for (int j = 0; j < length; j++) {
                    argument.append(alphabet[random.nextInt(alphabet.length)]);
                }
                arguments.add(argument.toString());
            }
            String joined = ParametersList.join(arguments);
            assertEquals("round trip of " + arguments + " through [" + joined + "]", arguments,
                    ParametersList.parse(joined));
        }
    }
}
