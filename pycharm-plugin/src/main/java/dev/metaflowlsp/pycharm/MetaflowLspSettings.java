package dev.metaflowlsp.pycharm;

import com.intellij.openapi.application.ApplicationManager;
import com.intellij.openapi.components.PersistentStateComponent;
import com.intellij.openapi.components.State;
import com.intellij.openapi.components.Storage;
import dev.metaflowlsp.core.ServerLaunch;
import org.jetbrains.annotations.NotNull;

/**
 * The plugin's own setting, the VS Code extension's {@code metaflowLsp.importStrategy}: {@code useBundled} (the
 * default: the server inside the plugin) or {@code fromEnvironment} (the interpreter's own metaflow_lsp, when it has
 * one). The rule settings are the server's ({@code [tool.metaflow-lsp]} in pyproject.toml).
 */
@State(name = "MetaflowLspSettings", storages = @Storage("metaflow-lsp.xml"))
public final class MetaflowLspSettings implements PersistentStateComponent<MetaflowLspSettings.StoredState> {
    /** What is written to metaflow-lsp.xml. */
    public static final class StoredState {
        public String importStrategy = ServerLaunch.ImportStrategy.USE_BUNDLED.id();
    }

    private StoredState state = new StoredState();

    static MetaflowLspSettings getInstance() {
        return ApplicationManager.getApplication().getService(MetaflowLspSettings.class);
    }

    @NotNull ServerLaunch.ImportStrategy importStrategy() {
        return ServerLaunch.ImportStrategy.fromId(state.importStrategy);
    }

    void setImportStrategy(@NotNull ServerLaunch.ImportStrategy strategy) {
        state.importStrategy = strategy.id();
    }

    @Override
    public @NotNull StoredState getState() {
        return state;
    }

    @Override
    public void loadState(@NotNull StoredState loaded) {
        state = loaded;
    }
}
