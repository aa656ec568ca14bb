"""QR Studio render service."""
