"""New projects and their CI: `metaflow-lsp init` (the guide's layout, `project_init.py`) and `metaflow-lsp
ci-workflow` (the GitHub Actions workflow running every flow in test mode, `ci_workflow.py`)."""
