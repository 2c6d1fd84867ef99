package dev.metaflowlsp.pycharm;

import com.intellij.openapi.project.Project;
import com.redhat.devtools.lsp4ij.LanguageServerFactory;
import com.redhat.devtools.lsp4ij.server.StreamConnectionProvider;
import org.jetbrains.annotations.NotNull;

/**
 * LSP4IJ's entry point for the server declared as {@code <server id="metaflowLsp">} in plugin.xml. LSP4IJ's default
 * language client is enough: the server pulls its settings with workspace/configuration and its code lenses name
 * client-side commands, which LSP4IJ sends to the actions of the same id (RunSpecAction and subclasses).
 */
public final class MetaflowLanguageServerFactory implements LanguageServerFactory {
    @Override
    public @NotNull StreamConnectionProvider createConnectionProvider(@NotNull Project project) {
        return new MetaflowServerConnectionProvider(project);
    }
}
