"""Logos and background images: fetched safely, checked and normalised before any render."""
