"""The render cells' geometry (tzzr.cells.render.geometry): the n-cube, rotations that
keep lengths, one plane at a time, and the stereographic projection by hand."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tzzr.cells.render import geometry

angle = st.floats(min_value=-720, max_value=720, allow_nan=False)


def test_the_tesseract_has_16_vertices_and_32_edges() -> None:
    vertices, edges = geometry.hypercube(4)
    assert vertices.shape == (16, 4) and len(edges) == 32
    degrees = np.bincount(np.array(edges).ravel())
    assert (degrees == 4).all()
    cube_vertices, cube_edges = geometry.hypercube(3)
    assert cube_vertices.shape == (8, 3) and len(cube_edges) == 12


@given(st.fixed_dictionaries(dict.fromkeys(geometry.PLANES_4D, angle)))
@settings(max_examples=60, deadline=None)
def test_rotations_in_4d_preserve_edge_lengths(angles: dict[str, float]) -> None:
    vertices, edges = geometry.hypercube(4)
    matrix = geometry.rotation(4, {p: math.radians(a) for p, a in angles.items()})
    assert np.allclose(matrix @ matrix.T, np.eye(4)) and math.isclose(np.linalg.det(matrix), 1.0)
    rotated = vertices @ matrix.T
    assert np.allclose(geometry.edge_lengths(rotated, edges), 2.0)
    # the centre stays put and every vertex stays on the sphere of radius 2
    assert np.allclose(np.linalg.norm(rotated, axis=1), 2.0)


def test_each_plane_rotates_only_its_two_axes() -> None:
    for plane in geometry.PLANES_4D:
        matrix = geometry.plane_rotation(4, plane, math.pi / 2)
        i, j = "xyzw".index(plane[0]), "xyzw".index(plane[1])
        unit = np.eye(4)[i]
        assert np.allclose(matrix @ unit, np.eye(4)[j])  # e_i -> e_j by a quarter turn
        others = [k for k in range(4) if k not in (i, j)]
        for k in others:
            assert np.allclose(matrix @ np.eye(4)[k], np.eye(4)[k])


def test_the_stereographic_identity_pose_matches_a_hand_computation() -> None:
    """distance4 = 2.5: vertices on the 3-sphere of radius 0.4 are v/2 * 0.4 = ±0.2 on
    each axis; from the pole w = 1, xyz / (1 - w): (1,1,1,1) -> .2/.8 = .25 each;
    (1,1,1,-1) -> .2/1.2 = 1/6 each."""
    vertices, _ = geometry.hypercube(4)
    projected, w = geometry.project_4d(vertices, "stereographic", 2.5)
    index = {tuple(v): k for k, v in enumerate(vertices.tolist())}
    assert np.allclose(projected[index[(1.0, 1.0, 1.0, 1.0)]], (0.25, 0.25, 0.25))
    assert np.allclose(projected[index[(1.0, 1.0, 1.0, -1.0)]], (1 / 6, 1 / 6, 1 / 6))
    assert set(np.round(w, 6)) == {0.2, -0.2}


def test_depth_weights_go_from_far_to_near_and_a_flat_scene_is_all_near() -> None:
    assert np.allclose(geometry.depth_weights(np.array([-1.0, 0.0, 3.0])), [0.0, 0.25, 1.0])
    assert np.allclose(geometry.depth_weights(np.array([2.0, 2.0])), [1.0, 1.0])


def test_the_3d_perspective_scales_by_distance_over_distance_minus_depth() -> None:
    points = np.array([[1.0, 1.0, 1.0], [2.0, -2.0, -1.0]])
    projected, depth = geometry.project_3d(points, 3.0)
    assert np.allclose(projected, [[1.5, 1.5], [1.5, -1.5]])
    assert np.allclose(depth, [1.0, -1.0])
