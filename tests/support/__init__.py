"""Local stand-ins for the outside world that tests start on 127.0.0.1 (no network here)."""
