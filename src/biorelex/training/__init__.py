"""Training: one plain, readable loop."""
