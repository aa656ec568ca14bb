"""The render pipeline: encode, clear zone, geometry, layers, write, read-back (``pipeline``)."""
