package dev.metaflowlsp.pycharm;

import com.intellij.openapi.options.Configurable;
import com.intellij.openapi.ui.ComboBox;
import com.intellij.util.ui.FormBuilder;
import dev.metaflowlsp.core.ServerLaunch;
import javax.swing.JComponent;
import javax.swing.JLabel;
import org.jetbrains.annotations.Nls;

/** Settings | Tools | Metaflow LSP: the import strategy. Applies when the server next starts (LSP4IJ's console has
 *  a restart action). */
public final class MetaflowLspConfigurable implements Configurable {
    private ComboBox<ServerLaunch.ImportStrategy> strategy;

    @Override
    public @Nls String getDisplayName() {
        return "Metaflow LSP";
    }

    @Override
    public JComponent createComponent() {
        strategy = new ComboBox<>(ServerLaunch.ImportStrategy.values());
        return FormBuilder.createFormBuilder()
                .addLabeledComponent("Import strategy:", strategy)
                .addComponentToRightColumn(new JLabel("<html>useBundled: the server inside the plugin, run by the project "
                        + "interpreter (nothing installed into it).<br>fromEnvironment: that interpreter's own "
                        + "metaflow_lsp, when it has one.</html>"))
                .addComponentFillVertically(new javax.swing.JPanel(), 0)
                .getPanel();
    }

    @Override
    public boolean isModified() {
        return strategy.getSelectedItem() != MetaflowLspSettings.getInstance().importStrategy();
    }

    @Override
    public void apply() {
        MetaflowLspSettings.getInstance().setImportStrategy((ServerLaunch.ImportStrategy) strategy.getSelectedItem());
    }

    @Override
    public void reset() {
        strategy.setSelectedItem(MetaflowLspSettings.getInstance().importStrategy());
    }
}
