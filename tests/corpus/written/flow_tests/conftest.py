import os

import pytest


@pytest.fixture
def metaflow_home(tmp_path, monkeypatch):
    """Runs of the flows under test go to a local datastore of their own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METAFLOW_USER", os.environ.get("METAFLOW_USER", "tester"))
    return tmp_path
