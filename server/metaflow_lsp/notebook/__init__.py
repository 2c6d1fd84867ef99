"""Debug notebooks: a step's task of a local run opened in Jupyter, with its common.py calls made again."""
