"""TAMV's first cells: a holographic cube and a 4D hypercube, rendered to PNG frames,
animations (WebP, GIF, APNG) and per-frame geometry for browsers."""

PLANES_3D = ("xy", "xz", "yz")
PLANES_4D = ("xy", "xz", "xw", "yz", "yw", "zw")
