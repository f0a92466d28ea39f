"""`render-3d-holocube` and `render-4d-hypercube`: validated parameters, deterministic
frames, and the outputs (PNG, animated WebP / GIF / APNG, per-frame geometry JSON)."""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tzzr.cells.base import Artifact, CellContext, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.render import PLANES_3D, PLANES_4D
from tzzr.validation import invalid_input

if TYPE_CHECKING:  # numpy and Pillow load when a frame is drawn, not when TZZR starts
    from tzzr.cells.render.geometry import Array

Colour = Field(pattern=r"^#[0-9a-fA-F]{6}$")
Output = Literal["png", "webp", "gif", "apng", "json"]
DEFAULT_OUTPUTS: tuple[Output, ...] = ("png", "json")
MAX_WORK_PIXELS = 512 * 512 * 720  # frames x size^2: a 24 s animation at 512 px, 30 fps
MEDIA = {"png": "image/png", "webp": "image/webp", "gif": "image/gif", "apng": "image/apng"}
FILL = 0.45  # no pose reaches beyond 90% of the frame


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    size: int = Field(default=512, ge=16, le=2048)
    frames: int = Field(default=1, ge=1, le=720)
    fps: float = Field(default=30.0, gt=0, le=120)
    distance: float = Field(default=4.0, gt=1.8, le=1000)
    color: str = Colour
    background: str = Field(default="#000000", pattern=r"^#[0-9a-fA-F]{6}$")
    line_width: float = Field(default=2.0, gt=0, le=32, alias="lineWidth")
    antialias: Literal[1, 2, 4] = 2
    depth_cue: bool = Field(default=True, alias="depthCue")
    glow: bool = True
    scanlines: bool = False
    outputs: list[Output] = Field(default_factory=lambda: list(DEFAULT_OUTPUTS), min_length=1)
    planes: ClassVar[tuple[str, ...]] = PLANES_3D

    @field_validator("angles", "speeds", check_fields=False)
    @classmethod
    def _planes(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(cls.planes))
        if unknown:
            raise ValueError(
                f"no rotation plane {', '.join(unknown)} here; planes: {', '.join(cls.planes)}"
            )
        return value

    @model_validator(mode="after")
    def _budget(self) -> _Params:
        if self.frames * self.size * self.size > MAX_WORK_PIXELS:
            raise ValueError(
                f"frames x size² is {self.frames * self.size * self.size:,} pixels; the limit "
                f"is {MAX_WORK_PIXELS:,} (fewer frames or a smaller size)"
            )
        return self


class HoloParams(_Params):
    color: str = Field(default="#00e5ff", pattern=r"^#[0-9a-fA-F]{6}$")
    scanlines: bool = True
    shading: bool = False
    angles: dict[str, float] = Field(default_factory=lambda: {"xz": 35.0, "yz": 25.0})
    speeds: dict[str, float] = Field(default_factory=lambda: {"xz": 60.0, "xy": 15.0})


class HyperParams(_Params):
    color: str = Field(default="#ff4fd8", pattern=r"^#[0-9a-fA-F]{6}$")
    glow: bool = False
    projection: Literal["perspective", "stereographic"] = "perspective"
    distance4: float = Field(default=3.0, gt=2.05, le=1000)
    angles: dict[str, float] = Field(default_factory=lambda: {"xz": 20.0, "yz": 15.0})
    speeds: dict[str, float] = Field(default_factory=lambda: {"xw": 45.0, "zw": 30.0})
    planes: ClassVar[tuple[str, ...]] = PLANES_4D


def parse(model: type[_Params], params: dict[str, Any]) -> Any:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise invalid_input(exc, under="params") from exc


def _faces(vertices: Array) -> list[list[int]]:
    """The six faces of a cube, each as its four vertices in drawing order."""
    import numpy as np

    faces = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            members = [i for i, v in enumerate(vertices) if v[axis] == sign]
            a, b = [k for k in range(3) if k != axis]
            centre = vertices[members].mean(axis=0)
            members.sort(
                key=lambda i: np.arctan2(vertices[i][b] - centre[b], vertices[i][a] - centre[a])
            )
            faces.append(members)
    return faces


class _Renderer:
    dimensions = 3
    model: type[_Params] = HoloParams
    module = ""
    accepts = frozenset({"none"})
    meta: KnowledgeCell

    def check_params(self, params: dict[str, Any]) -> None:
        parse(self.model, params)

    def _project(self, points: Array, p: Any) -> tuple[Array, Array]:

        raise NotImplementedError

    def _reach(self, p: Any) -> float:
        """The largest |xy| any pose can have: the scale keeps every pose in frame
        and is the same for every frame (no breathing)."""

        raise NotImplementedError

    def pose(self, p: Any, frame: int) -> tuple[Array, Array]:
        """2D points in pixels (y down) and each vertex's depth weight (0 far, 1 near)."""
        import numpy as np

        from tzzr.cells.render import geometry

        vertices, _ = geometry.hypercube(self.dimensions)
        angles = geometry.angles_at(frame, p.fps, p.angles, p.speeds)
        rotated = vertices @ geometry.rotation(self.dimensions, angles).T
        flat, depth = self._project(rotated, p)
        scale = FILL * p.size / self._reach(p)
        centre = p.size / 2
        pixels = np.column_stack((centre + flat[:, 0] * scale, centre - flat[:, 1] * scale))
        return pixels, geometry.depth_weights(depth)

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        import numpy as np

        from tzzr.cells.render import geometry, raster

        p = parse(self.model, dict(context.params))
        vertices, edges = geometry.hypercube(self.dimensions)
        faces = _faces(vertices) if getattr(p, "shading", False) else []
        colour, background = raster.hex_colour(p.color), raster.hex_colour(p.background)
        animate = [o for o in p.outputs if o in ("webp", "gif", "apng")]
        started = time.perf_counter()
        frames, poses = [], []
        for index in range(p.frames):
            pixels, weights = self.pose(p, index)
            poses.append(
                {
                    "frame": index,
                    "t": round(index / p.fps, 6),
                    "points": np.round(pixels, 3).tolist(),
                    "depth": np.round(weights, 4).tolist(),
                }
            )
            if index == 0 or animate:
                frames.append(
                    raster.draw_frame(
                        p.size,
                        pixels.tolist(),
                        edges,
                        weights.tolist(),
                        colour=colour,
                        background=background,
                        line_width=p.line_width,
                        antialias=p.antialias,
                        depth_cue=p.depth_cue,
                        glow=p.glow,
                        scanlines=p.scanlines,
                        faces=faces,
                    )
                )
        render_s = time.perf_counter() - started
        artifacts: dict[str, Artifact] = {}
        if "png" in p.outputs:
            artifacts["frame.png"] = Artifact(raster.encode_png(frames[0]), MEDIA["png"])
        for kind in animate:
            name = f"animation.{'png' if kind == 'apng' else kind}"
            artifacts[name] = Artifact(raster.encode_animation(frames, p.fps, kind), MEDIA[kind])
        geometry_json = {
            "cell": self.meta.id,
            "width": p.size,
            "height": p.size,
            "fps": p.fps,
            "vertices": len(vertices),
            "edges": [list(e) for e in edges],
            "frames": poses,
        }
        if "json" in p.outputs:
            artifacts["geometry.json"] = Artifact(
                json.dumps(geometry_json, separators=(",", ":")).encode(), "application/json"
            )
        latency = (time.perf_counter() - started) * 1000
        drawn = len(frames)
        metrics = {
            "fps": round(drawn / render_s, 2) if render_s > 0 else 0.0,
            "msPerFrame": round(render_s * 1000 / drawn, 3),
            "latencyMs": round(latency, 2),
        }
        return CellResult(
            {
                "width": p.size,
                "height": p.size,
                "frames": p.frames,
                "fps": p.fps,
                "vertices": len(vertices),
                "edges": len(edges),
                "params": p.model_dump(mode="json", by_alias=True),
                "metrics": metrics,
            },
            engine="pillow",
            model=self.meta.id,
            artifacts=artifacts,
            metrics=metrics,
        )

    def visualize(self, payload: Payload, result: CellResult) -> tuple[bytes, str]:
        for name in ("animation.webp", "animation.gif", "animation.png", "frame.png"):
            if name in result.artifacts:
                artifact = result.artifacts[name]
                return artifact.data, artifact.media_type
        artifact = result.artifacts["geometry.json"]
        return artifact.data, artifact.media_type


def _samples(frames: int, fps: int) -> list[dict[str, Any]]:
    """A renderer's visualization samples: one still frame and a looping spin."""
    return [
        {"id": "still", "params": {"size": 384, "outputs": ["png"]}, "mediaType": "image/png"},
        {
            "id": "spin",
            "params": {"size": 256, "frames": frames, "fps": fps, "outputs": ["webp"]},
            "mediaType": "image/webp",
        },
    ]


def _meta(
    cell_id: str, kind: str, description: str, samples: list[dict[str, Any]]
) -> KnowledgeCell:
    return KnowledgeCell(
        id=cell_id,
        type="render",
        version="1.0.0",
        description=description,
        api_endpoint=f"/api/cells/{cell_id}/run",
        microservice_url="",
        dependencies=["pillow", "numpy"],
        input_format={"payload": {"type": "none"}, "params": kind},
        output_format={
            "artifacts": "frame.png, animation.webp | .gif | .png (APNG), geometry.json",
            "metrics": "fps, msPerFrame, latencyMs",
        },
        test_cases=[
            {
                "name": "one 512 px frame",
                "input": {},
                "params": {"size": 512, "frames": 1, "outputs": ["png"]},
                "expect": {"contains": ["width"]},
            }
        ],
        visualization_sample={"samples": samples},
        author="TZZR",
        ia_specialization_prompt="",
    )


class HolocubeCell(_Renderer):
    dimensions = 3
    model = HoloParams
    module = "RENDER_3D_HOLOCUBE"

    def __init__(self) -> None:
        self.meta = _meta(
            "render-3d-holocube",
            "HoloParams: size, frames, fps, angles/speeds on xy xz yz (degrees, deg/s), "
            "distance, color, background, lineWidth, antialias, depthCue, glow, scanlines, "
            "shading, outputs",
            "A rotating cube rendered as a hologram: glowing, depth-cued edges, scanlines.",
            _samples(frames=36, fps=18),
        )

    def _project(self, points: Array, p: Any) -> tuple[Array, Array]:
        from tzzr.cells.render import geometry

        return geometry.project_3d(points, p.distance)

    def _reach(self, p: Any) -> float:
        from tzzr.cells.render import geometry

        return geometry.reach(math.sqrt(3.0), p.distance)


class HypercubeCell(_Renderer):
    dimensions = 4
    model = HyperParams
    module = "RENDER_4D_HYPERCUBE"

    def __init__(self) -> None:
        self.meta = _meta(
            "render-4d-hypercube",
            "HyperParams: size, frames, fps, angles/speeds on xy xz xw yz yw zw (degrees, "
            "deg/s), projection (perspective | stereographic), distance4, distance, color, "
            "background, lineWidth, antialias, depthCue (on w), glow, scanlines, outputs",
            "A tesseract (16 vertices, 32 edges) rotating in the planes of R⁴, projected "
            "4D → 3D → 2D, depth-cued on w.",
            _samples(frames=48, fps=24),
        )

    def _project(self, points: Array, p: Any) -> tuple[Array, Array]:
        """Depth cueing follows w (the 4D depth), as the TAMV plan asks."""
        from tzzr.cells.render import geometry

        in_3d, w = geometry.project_4d(points, p.projection, p.distance4)
        flat, _ = geometry.project_3d(in_3d, p.distance)
        return flat, w

    def _reach(self, p: Any) -> float:
        from tzzr.cells.render import geometry

        return geometry.reach(geometry.reach_4d(2.0, p.projection, p.distance4), p.distance)
