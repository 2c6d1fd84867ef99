package dev.metaflowlsp.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class RunSpecTest {
    /** What RunSpec.to_json gives for a test-mode run (server/metaflow_lsp/launch/runspec.py). */
    static final String TEST_MODE = "{\"title\": \"Run in test mode\", \"kind\": \"testMode\", \"flow\": \"TrainFlow\","
            + " \"script\": \"/home/me/my flows/train.py\", \"args\": [\"--no-pylint\", \"run\", \"--test_mode\", \"1\","
            + " \"--max-workers\", \"1\", \"--tag\", \"ide-test-run\"], \"cwd\": \"/home/me/my flows\","
            + " \"env\": {\"PYTHONUNBUFFERED\": \"1\"}, \"debug\": false, \"debugger\": null,"
            + " \"testOption\": \"--test_mode\"}";

    static final String DEBUG = "{\"title\": \"Debug (foreach, one worker)\", \"kind\": \"debugForeach\","
            + " \"flow\": \"TrainFlow\", \"script\": \"C:\\\\work\\\\train.py\", \"args\": [\"run\"],"
            + " \"cwd\": \"C:\\\\work\", \"env\": {\"PYTHONUNBUFFERED\": \"1\", \"PYDEVD_DISABLE_FILE_VALIDATION\": \"1\"},"
            + " \"debug\": true, \"debugger\": {\"type\": \"debugpy\", \"subProcess\": true, \"justMyCode\": false},"
            + " \"testOption\": null}";

    private static String message(String json) {
        return assertThrows(RunSpecException.class, () -> RunSpec.parse(json)).getMessage();
    }

    @Test
    public void readsATestModeSpec() {
        RunSpec spec = RunSpec.parse(TEST_MODE);
        assertEquals("Run in test mode", spec.title());
        assertEquals(RunSpec.KIND_TEST_MODE, spec.kind());
        assertEquals("TrainFlow", spec.flow());
        assertEquals("/home/me/my flows/train.py", spec.script());
        assertEquals(List.of("--no-pylint", "run", "--test_mode", "1", "--max-workers", "1", "--tag", "ide-test-run"),
                spec.args());
        assertEquals("/home/me/my flows", spec.cwd());
        assertEquals(Map.of("PYTHONUNBUFFERED", "1"), spec.env());
        assertFalse(spec.debug());
        assertNull(spec.debugger());
        assertEquals("--test_mode", spec.testOption());
    }

    @Test
    public void readsADebugSpecWithWindowsPaths() {
        RunSpec spec = RunSpec.parse(DEBUG);
        assertTrue(spec.debug());
        assertEquals("C:\\work\\train.py", spec.script());
        assertEquals(Boolean.TRUE, spec.debugger().get("subProcess"));
        assertNull(spec.testOption());
        assertEquals(List.of("PYTHONUNBUFFERED", "PYDEVD_DISABLE_FILE_VALIDATION"), List.copyOf(spec.env().keySet()));
    }

    @Test
    public void fillsDefaultsAndIgnoresUnknownKeys() {
        RunSpec spec = RunSpec.parse("{\"title\": \"t\", \"flow\": \"F\", \"script\": \"/f.py\", \"args\": [],"
                + " \"cwd\": \"/\", \"somethingNew\": [1, 2]}");
        assertEquals(RunSpec.KIND_TEST_MODE, spec.kind());
        assertEquals(Map.of(), spec.env());
        assertFalse(spec.debug());
    }

    @Test
    public void explainsWhatIsWrong() {
        assertEquals("Metaflow: the command needs a run specification from the server.", message(null));
        assertEquals("Metaflow: the command needs a run specification from the server.", message(""));
        assertEquals("Metaflow: the command needs a run specification from the server.", message("[1]"));
        assertEquals("Metaflow: the command needs a run specification from the server.", message("\"x\""));
        assertTrue(message("{\"title\": ").startsWith("Metaflow: the run specification is not valid JSON ("));
        assertEquals("Metaflow: the run specification has no title.", message(TEST_MODE.replace("\"title\"", "\"t\"")));
        assertEquals("Metaflow: the run specification has no flow.",
                message(TEST_MODE.replace("\"TrainFlow\"", "\"\"")));
        assertEquals("Metaflow: the run specification has no script.",
                message(TEST_MODE.replace("\"script\": \"/home/me/my flows/train.py\"", "\"script\": 3")));
        assertEquals("Metaflow: the run specification has no cwd.", message(TEST_MODE.replace("\"cwd\"", "\"dir\"")));
        assertEquals("Metaflow: the run specification's script must be an absolute path: train.py",
                message(TEST_MODE.replace("/home/me/my flows/train.py", "train.py")));
        assertEquals("Metaflow: the run specification's args must be a list of strings.",
                message(TEST_MODE.replace("\"--no-pylint\"", "1")));
        assertEquals("Metaflow: the run specification's args must be a list of strings.",
                message(TEST_MODE.replace("\"args\"", "\"arguments\"")));
        assertEquals("Metaflow: the run specification's env must map names to strings.",
                message(TEST_MODE.replace("{\"PYTHONUNBUFFERED\": \"1\"}", "{\"PYTHONUNBUFFERED\": 1}")));
        assertEquals("Metaflow: the run specification's env must map names to strings.",
                message(TEST_MODE.replace("{\"PYTHONUNBUFFERED\": \"1\"}", "[]")));
        assertEquals("Metaflow: the run specification's env has an invalid variable name: \"A=B\".",
                message(TEST_MODE.replace("PYTHONUNBUFFERED", "A=B")));
        assertEquals("Metaflow: the run specification's debug must be true or false.",
                message(TEST_MODE.replace("\"debug\": false", "\"debug\": \"no\"")));
        assertEquals("Metaflow: the run specification's kind must be a string.",
                message(TEST_MODE.replace("\"testMode\"", "7")));
        assertEquals("Metaflow: the run specification's args contains a NUL character.",
                message(TEST_MODE.replace("\"run\"", "\"r\\u0000un\"")));
    }

    @Test
    public void specsAreImmutable() {
        RunSpec spec = RunSpec.parse(TEST_MODE);
        assertThrows(UnsupportedOperationException.class, () -> spec.args().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> spec.env().put("X", "1"));
    }
}
