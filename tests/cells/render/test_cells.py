"""The TAMV render cells (tzzr.cells.render.cells): a hand-computed pose, determinism,
validated parameters, and visual regression against committed golden images
(perceptual hashes within a Hamming threshold)."""

import io
import itertools
import json
import math
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tzzr.cells.base import CellContext, Payload
from tzzr.cells.render import geometry
from tzzr.cells.render.cells import HolocubeCell, HypercubeCell, HyperParams
from tzzr.errors import InvalidInput

GOLDEN = Path(__file__).parent.parent / "golden"
THRESHOLD = 6  # Hamming distance of 64-bit perceptual hashes
CASES: dict[str, tuple[type[Any], dict[str, Any]]] = {
    "holocube": (HolocubeCell, {"size": 256}),
    "holocube-shaded": (
        HolocubeCell,
        {"size": 256, "shading": True, "angles": {"xy": 10, "xz": 50}},
    ),
    "hypercube": (HypercubeCell, {"size": 256}),
    "hypercube-stereographic": (
        HypercubeCell,
        {"size": 256, "projection": "stereographic", "angles": {"xw": 30, "yz": 20}},
    ),
}


def render(cell: Any, params: dict[str, Any]) -> Any:
    return cell.run(CellContext("t", None, params), Payload("none", b""))


angle = st.floats(min_value=-720, max_value=720, allow_nan=False)


def test_the_identity_pose_matches_a_hand_computation() -> None:
    """Perspective, distance4 = 3, distance = 4, size 512, no rotation.
    (1,1,1,1): xyz / (3 - 1) = (.5,.5,.5); xy * 4 / (4 - .5) = 4/7.
    The scale keeps any pose in frame: a vertex (|v| = 2) reaches at most
    2 / sqrt(9 - 4) = 0.8944 in 3D, then 0.8944 * 4 / sqrt(16 - 0.8) = 0.91766 in 2D,
    so scale = 0.45 * 512 / 0.91766 = 251.07 px, and (1,1,1,1) lands at 256 ± 143.47.
    (1,1,-1,-1): xyz / 4 = (.25,.25,-.25); * 4 / 4.25 = 0.23529 -> 256 ± 59.08."""
    cell = HypercubeCell()
    p = HyperParams.model_validate({"angles": {}, "speeds": {}, "size": 512})
    pixels, weights = cell.pose(p, 0)
    vertices, _ = geometry.hypercube(4)
    index = {tuple(v): k for k, v in enumerate(vertices.tolist())}
    scale = 0.45 * 512 / (0.894427191 * 4 / math.sqrt(16 - 0.8))
    assert math.isclose(scale, 251.07, abs_tol=0.01)
    outer = 4 / 7 * scale
    assert np.allclose(pixels[index[(1.0, 1.0, 1.0, 1.0)]], (256 + outer, 256 - outer))
    assert np.allclose(pixels[index[(1.0, 1.0, 1.0, 1.0)]], (399.47, 112.53), atol=0.01)
    inner = 0.25 * 4 / 4.25 * scale
    assert np.allclose(pixels[index[(1.0, 1.0, -1.0, -1.0)]], (256 + inner, 256 - inner))
    # depth cueing follows w: the w = 1 cube is near (1), the w = -1 cube far (0)
    assert (
        weights[index[(1.0, 1.0, 1.0, 1.0)]] == 1.0 and weights[index[(1.0, 1.0, 1.0, -1.0)]] == 0.0
    )


@given(
    st.fixed_dictionaries(dict.fromkeys(geometry.PLANES_4D, angle)),
    st.sampled_from(["perspective", "stereographic"]),
)
@settings(max_examples=40, deadline=None)
def test_no_pose_leaves_the_frame(angles: dict[str, float], projection: str) -> None:
    p = HyperParams.model_validate({"angles": angles, "size": 200, "projection": projection})
    pixels, _ = HypercubeCell().pose(p, 0)
    assert (pixels >= 10).all() and (pixels <= 190).all()


def test_the_same_parameters_give_the_same_bytes() -> None:
    params = {"size": 128, "frames": 6, "outputs": ["png", "webp", "gif", "apng", "json"]}
    for cell in (HolocubeCell(), HypercubeCell()):
        first, second = render(cell, params), render(cell, params)
        assert set(first.artifacts) == {
            "frame.png",
            "animation.webp",
            "animation.gif",
            "animation.png",
            "geometry.json",
        }
        for name, artifact in first.artifacts.items():
            assert artifact.data == second.artifacts[name].data, name


def test_outputs_metrics_and_geometry() -> None:
    result = render(
        HypercubeCell(), {"size": 96, "frames": 5, "fps": 10, "outputs": ["gif", "apng", "json"]}
    )
    assert result.metrics["fps"] > 0 and result.metrics["latencyMs"] > 0
    assert set(result.artifacts) == {"animation.gif", "animation.png", "geometry.json"}
    with Image.open(io.BytesIO(result.artifacts["animation.gif"].data)) as gif:
        assert (
            getattr(gif, "n_frames", 1) == 5
            and gif.size == (96, 96)
            and gif.info["duration"] == 100
        )
    with Image.open(io.BytesIO(result.artifacts["animation.png"].data)) as apng:
        assert getattr(apng, "n_frames", 1) == 5
    shape = json.loads(result.artifacts["geometry.json"].data)
    assert shape["vertices"] == 16 and len(shape["edges"]) == 32 and len(shape["frames"]) == 5
    assert shape["frames"][2]["t"] == 0.2 and len(shape["frames"][2]["points"]) == 16
    assert result.result["edges"] == 32 and result.result["metrics"] == dict(result.metrics)


@pytest.mark.parametrize(
    ("cell", "params", "field"),
    [
        (HypercubeCell, {"size": 8}, "params.size"),
        (HypercubeCell, {"projection": "orthographic"}, "params.projection"),
        (HypercubeCell, {"speeds": {"xq": 10}}, "params.speeds"),
        (HolocubeCell, {"angles": {"xw": 10}}, "params.angles"),
        (HolocubeCell, {"color": "cyan"}, "params.color"),
        (HolocubeCell, {"antialias": 3}, "params.antialias"),
        (HolocubeCell, {"outputs": ["bmp"]}, "params.outputs[0]"),
        (HolocubeCell, {"sizee": 10}, "params.sizee"),
        (HolocubeCell, {"size": 2048, "frames": 720}, "params"),
    ],
)
def test_bad_parameters_are_named(cell: type[Any], params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        cell().check_params(params)
    assert caught.value.field == field, caught.value.message


def phash(data: bytes) -> imagehash.ImageHash:
    with Image.open(io.BytesIO(data)) as image:
        return imagehash.phash(image.convert("RGB"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_frames_match_the_golden_images(name: str) -> None:
    cell, params = CASES[name]
    frame = render(cell(), {**params, "outputs": ["png"]}).artifacts["frame.png"].data
    golden = (GOLDEN / f"{name}.png").read_bytes()
    assert phash(frame) - phash(golden) <= THRESHOLD


def test_the_golden_check_can_fail() -> None:
    """Another pose is far from the golden image: the threshold tells them apart."""
    moved = render(
        HypercubeCell(), {"size": 256, "angles": {"xw": 70, "xy": 40}, "outputs": ["png"]}
    )
    golden = (GOLDEN / "hypercube.png").read_bytes()
    assert phash(moved.artifacts["frame.png"].data) - phash(golden) > THRESHOLD
    for a, b in itertools.combinations(sorted(CASES), 2):
        assert (
            phash((GOLDEN / f"{a}.png").read_bytes()) - phash((GOLDEN / f"{b}.png").read_bytes())
            > THRESHOLD
        )


if __name__ == "__main__":  # python -m tests.cells.render.test_cells: remake the golden images
    for name, (cell, params) in CASES.items():
        data = render(cell(), {**params, "outputs": ["png"]}).artifacts["frame.png"].data
        (GOLDEN / f"{name}.png").write_bytes(data)
        print(name, len(data))
