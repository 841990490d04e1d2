"""Developer tools outside the product's import path: the demo simulator and the bench."""
