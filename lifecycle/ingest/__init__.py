"""Reading, standardising and staging source extracts (pure: frames in, frames out)."""
