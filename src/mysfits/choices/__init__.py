"""Visitors' choices as data: export them as training rows, and count how often the model's advice was taken."""
