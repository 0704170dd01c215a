"""From a notebook's answers to scores with reasons."""
