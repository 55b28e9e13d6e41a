"""Services: orchestrate the core and the repositories. They never commit."""
