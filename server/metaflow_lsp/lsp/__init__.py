"""The language server: wiring of pygls features to the engine, code actions and launchers."""
