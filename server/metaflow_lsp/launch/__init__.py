"""Run specs for flows (test mode, foreach debugging), launch configurations, and the runner."""
