"""Source edits with libcst: quick fixes and "Extract step body to common.py"."""
