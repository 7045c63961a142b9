"""Reading raw sources and validating them into accepted rows and quarantine."""
