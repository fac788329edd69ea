"""HTTP clients for the two systems; neither knows which flow is using it."""
