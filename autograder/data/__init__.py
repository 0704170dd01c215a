"""Data the homeworks use, made from what installed packages ship (nothing is downloaded)."""
