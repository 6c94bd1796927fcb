"""Great Expectations suites, one JSON file per source (packaged so an installed platform has them)."""
