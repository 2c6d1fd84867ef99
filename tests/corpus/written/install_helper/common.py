"""What the flows of this project share: the guide's install helper, used while developing before @pypi."""

import subprocess
import sys


def install_dependencies(packages):
    """pip-installs `{name: version}` into the task's interpreter ("" means any version)."""
    specs = [f"{name}=={version}" if version else name for name, version in packages.items()]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *specs], check=True)
