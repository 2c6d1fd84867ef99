// The PyCharm plugin (root project) and its IntelliJ-free core (":core": RunSpec parsing, run configuration model,
// parameter quoting), which also compiles and tests with a plain JDK 17 (tests/test_pycharm_plugin.py does so).
plugins {
    id("org.gradle.toolchains.foojay-resolver-convention") version "1.0.0"
}

rootProject.name = "metaflow-lsp-pycharm"
include(":core")
