import org.jetbrains.intellij.platform.gradle.tasks.VerifyPluginTask.FailureLevel

// The plugin: IntelliJ-facing classes (src/main/java) over the core (core/). Built on a networked runner with
// Gradle 9 and JDK 21; nothing here can be resolved offline (see README.md).
plugins {
    java
    id("org.jetbrains.intellij.platform") version "2.14.0"
}

group = providers.gradleProperty("pluginGroup").get()
version = providers.gradleProperty("pluginVersion").get()

java {
    toolchain {
        languageVersion = JavaLanguageVersion.of(21)
    }
}

tasks.withType<JavaCompile>().configureEach {
    options.release = 21
    options.encoding = "UTF-8"
    options.compilerArgs.addAll(listOf("-Xlint:all", "-Xlint:-processing"))
}

repositories {
    mavenCentral()
    intellijPlatform {
        defaultRepositories()
    }
}

dependencies {
    implementation(project(":core"))
    intellijPlatform {
        pycharmCommunity(providers.gradleProperty("platformVersion"))
        // The actions (metaflow-lsp-python.xml) use PythonCore's run configurations and debugger options.
        bundledPlugin("PythonCore")
        plugin("com.redhat.devtools.lsp4ij", providers.gradleProperty("lsp4ijVersion").get())
        pluginVerifier()
    }
}

intellijPlatform {
    pluginConfiguration {
        version = providers.gradleProperty("pluginVersion")
        ideaVersion {
            sinceBuild = providers.gradleProperty("pluginSinceBuild")
            untilBuild = provider { null } // open-ended: verifyPlugin checks the releases it knows
        }
    }
    pluginVerification {
        ides {
            recommended()
        }
        // PyDebuggerOptionsProvider is @ApiStatus.Internal in recent PyCharm builds: reported, not fatal.
        failureLevel = listOf(FailureLevel.COMPATIBILITY_PROBLEMS, FailureLevel.INVALID_PLUGIN)
    }
}

// The server inside the plugin: `make pycharm-bundle` (scripts/server_bundle.py, the code that also fills the .vsix)
// writes ../build/pycharm-bundle; the plugin's folder gets it as server/ (libs/, native/<platform>/cp3XX/,
// layout.json), where dev.metaflowlsp.core.ServerLaunch looks for it. One source: the build never makes its own.
val serverBundle = layout.projectDirectory.dir("../build/pycharm-bundle")

tasks {
    prepareSandbox {
        val bundleLayout = serverBundle.file("layout.json").asFile
        doFirst {
            if (!bundleLayout.isFile) {
                throw GradleException("No server bundle at ${bundleLayout.parentFile}: run `make pycharm-bundle` at " +
                    "the repository root first.")
            }
        }
        from(serverBundle) {
            into(pluginName.map { "$it/server" })
        }
    }
}
