"""Data sets (one module each) and numpy image transforms."""
