"""Pages of the service package, one module per topic."""
