// No IntelliJ, no LSP4IJ, no third-party library: JDK 17 only, so it compiles and tests anywhere
// (tests/test_pycharm_plugin.py runs javac 17 and JUnit 4 from Debian on these same sources).
plugins {
    `java-library`
}

java {
    toolchain {
        languageVersion = JavaLanguageVersion.of(21)
    }
}

tasks.withType<JavaCompile>().configureEach {
    options.release = 17
    options.encoding = "UTF-8"
    options.compilerArgs.addAll(listOf("-Xlint:all", "-Werror"))
}

repositories {
    mavenCentral()
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}

tasks.test {
    useJUnit()
    // ServerSpecsCheck and LaunchCheck are main classes run by the Python tests, not JUnit tests.
    exclude("**/ServerSpecsCheck*", "**/LaunchCheck*")
}

// The lens command ids: the server's own list (server/metaflow_lsp/commands.json), read by MetaflowCommand.
sourceSets {
    main {
        resources {
            srcDir("../../server")
            include("metaflow_lsp/commands.json")
        }
    }
}
