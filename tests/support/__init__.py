"""Test support: store snapshots, child-process runs and kill points, local endpoints."""
