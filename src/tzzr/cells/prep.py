"""Photo preparation before OCR: what a phone photo of a page needs before Tesseract can
read it. Each step is a function of a greyscale image that returns the new image and the
3x3 matrix taking the old image's points to the new one's, so that every word found can
be put back where it is in the photo. The steps, in order:

1. **document**: the page is found against the table (the largest bright quadrilateral)
   and warped flat (perspective correction), or cut out turned straight when its corners
   are not clean.
2. **deskew**: what is left of the tilt, from the angle at which the text's rows line up
   best (a projection profile, within ±45°, which also tells rows from columns).
3. **orientation**: a page on its side or upside down, from Tesseract's orientation
   detection (OSD), and from the text's rows when OSD cannot tell.
4. **illumination**: uneven light divided out (the page's background estimated by a
   large closing), which leaves dark text on an even white page for Tesseract's own
   binarisation.

OpenCV (the headless wheel) does the geometry; numpy the rest."""

import math
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ANALYSIS_SIDE = 1000  # the document is looked for on a copy this size
MIN_PAGE_SHARE = 0.12  # a page covers at least this share of the photo
MAX_PAGE_SHARE = 0.97  # more than this is the photo's own frame: a scan, not a photo
MAX_SKEW = 45.0
MIN_SIDE = 64  # pixels: a thinner image is read as it is
MIN_DESKEW = 0.3  # degrees: less is not worth a resampling
OUT_OF_SQUARE = 1.5  # degrees from a right angle at a corner: a page seen in perspective
UPRIGHT = 0.25  # the rows' ascender/descender balance past which the page's way up is sure
TEXT_HEIGHT = (22, 60)  # pixels from a row's top to its bottom that Tesseract reads best
OSD_TIMEOUT_SECONDS = 30
OSD_MIN_CONFIDENCE = 1.5
ROTATE = re.compile(r"Rotate:\s*(\d+)")
CONFIDENCE = re.compile(r"Orientation confidence:\s*([\d.]+)")

Matrix = Any  # a 3x3 float64 numpy array
Image = Any  # a 2-D uint8 numpy array


@dataclass
class Prepared:
    """The page ready for OCR, the matrix from the original photo's points to its points,
    and what was done (`rotated`, `deskew`, `perspective`, `document`, `illumination`)."""

    image: Image
    matrix: Matrix
    steps: dict[str, Any] = field(default_factory=dict)

    def to_original(self, box: list[int]) -> tuple[list[int], list[list[int]]]:
        """A box `[x, y, w, h]` on the prepared page as the bounding box on the original
        photo and the four corners it covers there (clockwise from the top left)."""
        x, y, w, h = box
        corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], float)
        back = corners @ np.linalg.inv(self.matrix).T
        points = back[:, :2] / back[:, 2:3]
        quad = [[round(float(px)), round(float(py))] for px, py in points]
        xs, ys = points[:, 0], points[:, 1]
        left, top = math.floor(float(xs.min())), math.floor(float(ys.min()))
        bounds = [left, top, math.ceil(float(xs.max())) - left, math.ceil(float(ys.max())) - top]
        return bounds, quad


def prepare(
    gray: Image, tesseract: str | None = None, timeout: float = OSD_TIMEOUT_SECONDS
) -> Prepared:
    """Every step in turn on a greyscale photo; `tesseract` is the binary used for OSD
    when the text's rows cannot tell which way is up (none: they decide alone). The
    steps say what each did and `ms` how long each took."""
    matrix, image = np.eye(3), gray
    steps: dict[str, Any] = {}
    took: dict[str, float] = {}
    if min(gray.shape) < MIN_SIDE:  # a sliver or a thumbnail: nothing to find in it
        steps.update(document=False, perspective=False, deskew=0.0, rotated=0, scale=1.0)
        steps.update(illumination=False, ms={}, skipped=f"smaller than {MIN_SIDE} px")
        return Prepared(image, matrix, steps)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        took[name] = round((now - clock) * 1000, 1)
        clock = now

    page = find_document(gray)
    steps["document"] = page is not None
    steps["perspective"] = page is not None and page.perspective
    tilt = 0.0
    if page is not None:
        image, matrix, tilt = page.image, page.matrix @ matrix, page.tilt
    lap("document")
    # a page cut out along clean edges is level already, give or take a few degrees
    angle, vertical = text_angle(image, 5.0 if page is not None and page.clean else MAX_SKEW)
    if abs(angle) >= MIN_DESKEW:
        image, step = rotate(image, angle)
        matrix = step @ matrix
    steps["deskew"] = round(tilt + angle, 1)
    lap("deskew")
    turn = orientation(image, vertical, tesseract, timeout)
    steps["rotated"] = turn
    if turn:
        image, step = quarter_turns(image, turn)
        matrix = step @ matrix
    lap("orientation")
    factor = text_scale(image)
    if factor != 1.0:
        image, step = resize(image, factor)
        matrix = step @ matrix
    steps["scale"] = round(factor, 2)
    lap("scale")
    image, steps["illumination"] = flatten_light(image)
    lap("illumination")
    steps["ms"] = took
    return Prepared(image, matrix, steps)


@dataclass
class Page:
    """A page found in a photo: cut out (`image`), the matrix from the photo to it, its
    tilt on the table in degrees, whether its four corners were clean (`clean`: else
    the turned rectangle around it was cut), and whether they were out of square."""

    image: Image
    matrix: Matrix
    tilt: float
    clean: bool
    perspective: bool


def find_document(gray: Image) -> Page | None:
    """The page, warped flat; None when no page stands out from its background (a scan,
    a screenshot, a photo of a whole wall of text)."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, ANALYSIS_SIDE / max(height, width))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    _, mask = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)  # text holes closed
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    outline = max(contours, key=cv2.contourArea)
    share = cv2.contourArea(outline) / float(small.shape[0] * small.shape[1])
    if not MIN_PAGE_SHARE <= share <= MAX_PAGE_SHARE:
        return None
    hull = cv2.convexHull(outline)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    clean = len(quad) == 4 and bool(cv2.isContourConvex(quad))
    if clean:
        corners = quad.reshape(4, 2).astype(np.float64) / scale
    else:  # ragged edges: the turned rectangle around them
        corners = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float64) / scale
    corners = _clockwise(corners)
    top = np.linalg.norm(corners[1] - corners[0])
    bottom = np.linalg.norm(corners[2] - corners[3])
    left = np.linalg.norm(corners[3] - corners[0])
    right = np.linalg.norm(corners[2] - corners[1])
    out_w, out_h = round(max(top, bottom)), round(max(left, right))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    flat = cv2.warpPerspective(
        gray, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    dx, dy = corners[1] - corners[0]
    tilt = math.degrees(math.atan2(dy, dx))
    return Page(flat, matrix.astype(np.float64), tilt, clean, _out_of_square(corners))


def _out_of_square(corners: Any) -> bool:
    """Whether a quadrilateral's corners are more than OUT_OF_SQUARE degrees from right
    angles: a page photographed at an angle, not just turned."""
    for k in range(4):
        a, b, c = corners[k - 1], corners[k], corners[(k + 1) % 4]
        u, v = a - b, c - b
        cosine = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
        if abs(90 - math.degrees(math.acos(max(-1.0, min(1.0, cosine))))) > OUT_OF_SQUARE:
            return True
    return False


def _clockwise(points: Any) -> Any:
    """Four corners from the top left, clockwise (for a page turned less than 45°)."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]  # clockwise in image coordinates, from the left
    start = int(np.argmin(ordered.sum(axis=1)))  # the top left has the smallest x + y
    return np.roll(ordered, -start, axis=0)


def text_angle(gray: Image, within: float = MAX_SKEW) -> tuple[float, bool]:
    """The tilt of the text's rows in degrees (rotating by it makes them level; searched
    within ±`within`), and whether they then run up and down (a page on its side)."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, 600 / max(height, width))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(
        small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15
    ).astype(np.float32)
    if ink.sum() < 50:
        return 0.0, False

    def score(angle: float) -> tuple[float, float]:
        h, w = ink.shape
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turned = cv2.warpAffine(ink, turn, (w, h), flags=cv2.INTER_NEAREST)
        rows, cols = turned.sum(axis=1), turned.sum(axis=0)
        return float(np.var(rows) / max(1, h)), float(np.var(cols) / max(1, w))

    best, best_angle, best_vertical = -1.0, 0.0, False
    for coarse in np.arange(-within, within + 0.01, 1.0):
        rows, cols = score(float(coarse))
        if max(rows, cols) > best:
            best, best_angle, best_vertical = max(rows, cols), float(coarse), cols > rows
    for fine in np.arange(best_angle - 1, best_angle + 1.01, 0.2):
        rows, cols = score(float(fine))
        if max(rows, cols) > best:
            best, best_angle, best_vertical = max(rows, cols), float(fine), cols > rows
    # cv2 turns counter-clockwise for positive angles; the tilt is the opposite
    return -best_angle, best_vertical


def rotate(gray: Image, angle: float) -> tuple[Image, Matrix]:
    """The image turned by `-angle` degrees (levelling a tilt of `angle`) on a canvas
    large enough to keep every corner, and the matrix."""
    import cv2

    height, width = gray.shape
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    out_w, out_h = round(width * cos + height * sin), round(width * sin + height * cos)
    turn[0, 2] += out_w / 2 - width / 2
    turn[1, 2] += out_h / 2 - height / 2
    turned = cv2.warpAffine(
        gray, turn, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return turned, np.vstack([turn, [0, 0, 1]])


def quarter_turns(gray: Image, degrees: int) -> tuple[Image, Matrix]:
    """The image turned clockwise by 90, 180 or 270 degrees, and the matrix."""
    height, width = gray.shape
    if degrees == 90:
        return np.ascontiguousarray(np.rot90(gray, -1)), np.array(
            [[0, -1, height - 1], [1, 0, 0], [0, 0, 1]], float
        )
    if degrees == 180:
        return np.ascontiguousarray(gray[::-1, ::-1]), np.array(
            [[-1, 0, width - 1], [0, -1, height - 1], [0, 0, 1]], float
        )
    if degrees == 270:
        return np.ascontiguousarray(np.rot90(gray, 1)), np.array(
            [[0, 1, 0], [-1, 0, width - 1], [0, 0, 1]], float
        )
    return gray, np.eye(3)


def orientation(gray: Image, vertical: bool, tesseract: str | None, timeout: float) -> int:
    """How far to turn the page clockwise for its text to stand upright. The rows of
    Latin text carry more ink above their middle band (capitals, ascenders, accents)
    than below it (descenders): that balance tells upright from upside down, after a
    quarter turn for rows running up and down. When it is too even to tell, Tesseract's
    OSD decides, and failing that the page is left as it is."""
    candidate = 90 if vertical else 0
    upright_view = quarter_turns(gray, candidate)[0] if candidate else gray
    balance = ink_balance(upright_view)
    if balance >= UPRIGHT:
        return candidate
    if balance <= -UPRIGHT:
        return (candidate + 180) % 360
    if tesseract is not None:
        found = osd(gray, tesseract, timeout)
        if found is not None:
            return found
    return candidate


def rows(gray: Image) -> tuple[Any, list[tuple[int, int]], float]:
    """The ink per pixel row of a copy at most 1200 px on its longer side, the runs of
    rows that hold text (start, end), and the copy's scale."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, 1200 / max(height, width))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    profile = ink.sum(axis=1).astype(np.float64)
    inked = profile > max(2.0, 0.02 * ink.shape[1])
    runs, y = [], 0
    while y < len(profile):
        if not inked[y]:
            y += 1
            continue
        start = y
        while y < len(profile) and inked[y]:
            y += 1
        if y - start >= 6:
            runs.append((start, y))
    return profile, runs, scale


def ink_balance(gray: Image) -> float:
    """(ink above the rows' middle bands - ink below) / both, in -1..1: positive for
    upright Latin text."""
    profile, runs, _ = rows(gray)
    above = below = 0.0
    for start, end in runs:
        band = profile[start:end]
        core = np.nonzero(band >= 0.5 * band.max())[0]
        above += float(band[: core[0]].sum())
        below += float(band[core[-1] + 1 :].sum())
    total = above + below
    return (above - below) / total if total else 0.0


def text_scale(gray: Image) -> float:
    """The factor that brings the text's rows to a height Tesseract reads best (1.0 when
    they are there already, or when no rows are found)."""
    _, runs, scale = rows(gray)
    if len(runs) < 2:
        return 1.0
    height = float(np.median([end - start for start, end in runs])) / scale
    low, high = TEXT_HEIGHT
    if height > high:
        return high / height
    if height < low:
        return min(3.0, low / height)
    return 1.0


def resize(gray: Image, factor: float) -> tuple[Image, Matrix]:
    import cv2

    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interpolation)
    height, width = gray.shape
    fx, fy = resized.shape[1] / width, resized.shape[0] / height
    return resized, np.array([[fx, 0, 0], [0, fy, 0], [0, 0, 1]], float)


def osd(gray: Image, tesseract: str, timeout: float) -> int | None:
    """Tesseract's orientation detection on the page (at most 1600 px on its longer
    side): the clockwise turn that makes it upright, or None when it cannot tell."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, 1600 / max(height, width))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode(".png", small)
    if not ok:
        return None
    try:
        done = subprocess.run(
            [tesseract, "stdin", "stdout", "--psm", "0", "-l", "osd"],
            input=png.tobytes(),
            capture_output=True,
            timeout=max(timeout, 0.001),
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired:
        return None
    text = done.stdout.decode(errors="replace")
    turn, confidence = ROTATE.search(text), CONFIDENCE.search(text)
    if done.returncode != 0 or turn is None or confidence is None:
        return None
    if float(confidence.group(1)) < OSD_MIN_CONFIDENCE:
        return None
    return int(turn.group(1)) % 360


def flatten_light(gray: Image) -> tuple[Image, bool]:
    """Uneven light divided out: the page's background (a closing wide enough to erase
    the text, on a copy at most ANALYSIS_SIDE px, scaled back up) brought to white. Left
    as it is when the light is even already."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, ANALYSIS_SIDE / max(height, width))
    small = cv2.resize(
        gray,
        (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    side = max(15, (min(small.shape) // 30) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.GaussianBlur(background, (0, 0), side / 2)
    low, high = np.percentile(background, [5, 95])
    if high - low < 25:  # even light: nothing to flatten
        return gray, False
    if scale < 1.0:
        background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    flat = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0) * 245.0
    return np.clip(flat, 0, 255).astype(np.uint8), True
