package dev.metaflowlsp.pycharm;

import com.intellij.ide.impl.TrustedProjects;
import com.intellij.openapi.module.Module;
import com.intellij.openapi.module.ModuleManager;
import com.intellij.openapi.project.Project;
import com.intellij.openapi.projectRoots.Sdk;
import com.intellij.openapi.roots.ModuleRootManager;
import com.intellij.openapi.roots.ProjectRootManager;
import dev.metaflowlsp.core.ServerCommand;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * The project's Python interpreter, read through the platform's SDK API only, so the language server also starts
 * where PythonCore's classes are not on the classpath. {@code PythonSdkType}'s name is "Python SDK".
 */
final class ProjectPython {
    private static final String PYTHON_SDK_TYPE_NAME = "Python SDK";

    private ProjectPython() {
    }

    /**
     * The interpreter that runs {@code -m metaflow_lsp}: the project SDK, else a module's, else python3; in an
     * untrusted project never one inside the project.
     */
    static @NotNull String interpreter(@NotNull Project project) {
        Sdk sdk = pythonSdk(project);
        return ServerCommand.interpreter(sdk != null ? sdk.getHomePath() : null, sdk != null,
                System.getProperty("os.name"), project.getBasePath(), isTrusted(project));
    }

    /** Whether the user trusted the project (PyCharm asks when it opens one it does not know). */
    static boolean isTrusted(@NotNull Project project) {
        return TrustedProjects.isTrusted(project);
    }

    private static @Nullable Sdk pythonSdk(@NotNull Project project) {
        Sdk projectSdk = ProjectRootManager.getInstance(project).getProjectSdk();
        if (isPython(projectSdk)) {
            return projectSdk;
        }
        for (Module module : ModuleManager.getInstance(project).getModules()) {
            Sdk moduleSdk = ModuleRootManager.getInstance(module).getSdk();
            if (isPython(moduleSdk)) {
                return moduleSdk;
            }
        }
        return null;
    }

    private static boolean isPython(@Nullable Sdk sdk) {
        return sdk != null && PYTHON_SDK_TYPE_NAME.equals(sdk.getSdkType().getName()) && sdk.getHomePath() != null;
    }
}
