"""The render pipeline, one module per stage: content, encode, layout, geometry, png/svg."""
