package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
    @Test
    public void readsEveryKindOfValue() {
        Object value = Json.parse(" {\"s\": \"x\", \"n\": -1.5e2, \"t\": true, \"f\": false, \"z\": null,"
                + " \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}} ");
        Map<?, ?> map = (Map<?, ?>) value;
        assertEquals("x", map.get("s"));
        assertEquals(0, new BigDecimal("-150").compareTo((BigDecimal) map.get("n")));
        assertEquals(Boolean.TRUE, map.get("t"));
        assertEquals(Boolean.FALSE, map.get("f"));
        assertTrue(map.containsKey("z"));
        assertNull(map.get("z"));
        assertEquals(3, ((List<?>) map.get("a")).size());
        assertEquals("v", ((Map<?, ?>) map.get("o")).get("k"));
        assertEquals(Arrays.asList("s", "n", "t", "f", "z", "a", "o"), List.copyOf(map.keySet()));
    }

    @Test
    public void decodesEscapes() {
        assertEquals("a\"b\\c/d\b\f\n\r\t\u00e9\u20ac", Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\""));
        // A character outside the BMP arrives as a surrogate pair of escapes.
        assertEquals("\uD83D\uDE00", Json.parse("\"\\ud83d\\ude00\""));
        assertEquals("caf\u00e9 $HOME 'q'", Json.parse("\"caf\u00e9 $HOME 'q'\""));
    }

    @Test
    public void rejectsInvalidText() {
        for (String bad : new String[] {
                "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'x'", "\"unterminated",
                "\"bad \\x escape\"", "\"\\u12\"", "01", "1.", "-", "1e", "tru", "nul", "{} {}", "[1] x",
                "\"tab\tinside\"", "{\"a\":1,\"a\":2}", "NaN"}) {
            assertThrows(bad, Json.JsonException.class, () -> Json.parse(bad));
        }
    }

    @Test
    public void reportsWhereTheProblemIs() {
        Json.JsonException error = assertThrows(Json.JsonException.class, () -> Json.parse("{\"a\": [1, 2 3]}"));
        assertEquals(12, error.offset());
        assertTrue(error.getMessage(), error.getMessage().contains("offset 12"));
    }

    @Test
    public void refusesDeepNesting() {
        String deep = "[".repeat(Json.MAX_DEPTH + 2) + "]".repeat(Json.MAX_DEPTH + 2);
        assertThrows(Json.JsonException.class, () -> Json.parse(deep));
        String fine = "[".repeat(10) + "]".repeat(10);
        assertTrue(Json.parse(fine) instanceof List);
    }

    @Test
    public void resultsAreReadOnly() {
        Map<?, ?> map = (Map<?, ?>) Json.parse("{\"a\": [1]}");
        assertThrows(UnsupportedOperationException.class, () -> map.clear());
        assertThrows(UnsupportedOperationException.class, () -> ((List<?>) map.get("a")).clear());
    }
}
