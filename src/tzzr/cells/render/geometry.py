"""Pure geometry: n-cubes, rotations in coordinate planes, and projections 4D -> 3D
(perspective or stereographic) -> 2D. The browser viewer (web/static/geometry.js)
implements the same formulas; a test compares the two."""

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from tzzr.cells.render import PLANES_3D as PLANES_3D
from tzzr.cells.render import PLANES_4D as PLANES_4D

Array = NDArray[np.float64]
AXES = "xyzw"


def hypercube(dimensions: int) -> tuple[Array, list[tuple[int, int]]]:
    """The 2^n vertices (±1 on every axis) and the edges joining vertices that differ
    on exactly one axis: a cube has 8 and 12, a tesseract 16 and 32."""
    vertices = np.array(list(itertools.product((-1.0, 1.0), repeat=dimensions)))
    edges = [
        (a, b)
        for a, b in itertools.combinations(range(len(vertices)), 2)
        if int(np.sum(vertices[a] != vertices[b])) == 1
    ]
    return vertices, edges


def plane_rotation(dimensions: int, plane: str, angle: float) -> Array:
    """Rotation by `angle` radians in the plane of two axes (e.g. "xw")."""
    i, j = AXES.index(plane[0]), AXES.index(plane[1])
    matrix = np.eye(dimensions)
    c, s = math.cos(angle), math.sin(angle)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = c, -s, s, c
    return matrix


def rotation(dimensions: int, angles: Mapping[str, float]) -> Array:
    """The product of the plane rotations, applied in the fixed order of the planes."""
    planes = PLANES_3D if dimensions == 3 else PLANES_4D
    matrix = np.eye(dimensions)
    for plane in planes:
        angle = angles.get(plane, 0.0)
        if angle:
            matrix = plane_rotation(dimensions, plane, angle) @ matrix
    return matrix


def angles_at(
    frame: int, fps: float, start: Mapping[str, float], speeds: Mapping[str, float]
) -> dict[str, float]:
    """Each plane's angle in radians at a frame: start + speed * t (degrees given)."""
    t = frame / fps
    planes = set(start) | set(speeds)
    return {p: math.radians(start.get(p, 0.0) + speeds.get(p, 0.0) * t) for p in planes}


def project_4d(points: Array, method: str, distance: float) -> tuple[Array, Array]:
    """4D -> 3D, and each point's w (for depth cueing). Perspective: a camera at w =
    distance, xyz scaled by 1 / (distance - w). Stereographic: the points put on the
    3-sphere of radius 1 / distance (inside the unit sphere, so never at the pole), then
    projected from the unit sphere's pole w = 1: xyz / (1 - w)."""
    w = points[:, 3].copy()
    if method == "stereographic":
        on_sphere = points / (distance * np.linalg.norm(points, axis=1, keepdims=True))
        return on_sphere[:, :3] / (1.0 - on_sphere[:, 3:4]), on_sphere[:, 3]
    return points[:, :3] / (distance - w)[:, None], w


def reach(radius: float, distance: float) -> float:
    """The largest |xy| that a point within `radius` of the origin can have after
    project_3d, reached at z = radius² / distance: radius·d / sqrt(d² − radius²)."""
    return radius * distance / math.sqrt(distance * distance - radius * radius)


def reach_4d(radius: float, method: str, distance: float) -> float:
    """The largest |xyz| after project_4d of a point within `radius` of the origin."""
    if method == "stereographic":
        rho = 1.0 / distance
        return rho / math.sqrt(1.0 - rho * rho)
    return radius / math.sqrt(distance * distance - radius * radius)


def project_3d(points: Array, distance: float) -> tuple[Array, Array]:
    """3D -> 2D with a camera at z = distance looking at the origin: xy scaled by
    distance / (distance - z). Also returns z (depth)."""
    z = points[:, 2]
    return points[:, :2] * (distance / (distance - z))[:, None], z


def depth_weights(depth: Array) -> Array:
    """0 for the farthest point, 1 for the nearest (constant depth: all 1)."""
    span = float(depth.max() - depth.min())
    if span < 1e-12:
        return np.ones_like(depth)
    weights: Array = (depth - depth.min()) / span
    return weights


def edge_lengths(vertices: Array, edges: Sequence[tuple[int, int]]) -> Array:
    return np.array([np.linalg.norm(vertices[a] - vertices[b]) for a, b in edges])
