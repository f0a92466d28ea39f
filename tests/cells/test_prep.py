"""Photo preparation: generated phone photos of receipts and letters (tests/cells/photos.py)
read by the OCR cell with real Tesseract, each against its ground truth; what each step
reports; and the words' boxes put back on the photo."""

import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.cells.photos import Case, Shot, cases, page, photograph, similarity, truth
from tzzr.cells import CellContext, Payload
from tzzr.cells.ocr import OcrCell
from tzzr.cells.prep import ink_balance, prepare, quarter_turns, rotate, text_angle
from tzzr.errors import InvalidInput

CASES = cases()


@pytest.fixture(autouse=True)
def _tesseract() -> None:
    if shutil.which("tesseract") is None or not os.path.exists(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    ):
        message = "tesseract-ocr and fonts-dejavu-core are needed (make test installs them)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def cell() -> OcrCell:
    return OcrCell()


def read(cell: OcrCell, image: bytes, **params: object) -> dict[str, object]:
    return cell.run(CellContext("r", None, params), Payload("image", image)).result


def gray(image: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image)).convert("L"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_photo_reads_as_its_text(cell: OcrCell, case: Case) -> None:
    result = read(cell, case.image())
    score = similarity(case.truth, str(result["text"]))
    assert score >= 0.95, (score, result["text"])


def test_bare_tesseract_cannot_read_the_hard_ones(cell: OcrCell) -> None:
    """The set is hard: without preparation, a skewed or upside-down photo is lost."""
    for name in ("receipt-es/skew-20", "letter-en/upside"):
        case = next(c for c in CASES if c.name == name)
        result = read(cell, case.image(), prepare=False, psm=3)
        assert similarity(case.truth, str(result["text"])) < 0.5
        assert "preparation" not in result


@pytest.mark.parametrize(
    ("shot", "rotated"), [(Shot(rotate=90), 270), (Shot(rotate=180), 180), (Shot(rotate=270), 90)]
)
def test_a_turned_photo_is_turned_back(cell: OcrCell, shot: Shot, rotated: int) -> None:
    steps = read(cell, photograph("letter-es", shot))["preparation"]
    assert isinstance(steps, dict)
    assert steps["rotated"] == rotated
    assert steps["document"] is True and steps["perspective"] is False


@pytest.mark.parametrize("skew", [-20.0, -11.0, 6.5, 20.0])
def test_the_skew_is_measured(cell: OcrCell, skew: float) -> None:
    steps = read(cell, photograph("receipt-en", Shot(skew=skew)))["preparation"]
    assert isinstance(steps, dict)
    assert abs(steps["deskew"] - skew) <= 1.0, steps
    assert steps["rotated"] == 0


def test_perspective_and_light_are_reported(cell: OcrCell) -> None:
    shot = Shot(perspective=0.08, light=0.5, noise=6, quality=70)
    steps = read(cell, photograph("receipt-es", shot, seed=3))["preparation"]
    assert isinstance(steps, dict)
    assert steps["perspective"] is True and steps["illumination"] is True
    assert set(steps["ms"]) == {"document", "deskew", "orientation", "scale", "illumination"}
    clean = read(cell, photograph("receipt-es", Shot()))["preparation"]
    assert isinstance(clean, dict)
    assert clean["perspective"] is False and clean["illumination"] is False


def centres(result: dict[str, object]) -> dict[str, tuple[float, float]]:
    words = result["words"]
    assert isinstance(words, list)
    return {
        w["text"]: (w["box"][0] + w["box"][2] / 2, w["box"][1] + w["box"][3] / 2) for w in words
    }


def test_words_are_boxed_on_the_original_photo(cell: OcrCell) -> None:
    """The same word in an upright photo and in the photo turned a quarter clockwise
    lands on the same spot once that turn is undone: boxes are the photo's, not the
    prepared page's."""
    upright = photograph("letter-en", Shot())
    turned = photograph("letter-en", Shot(rotate=90))
    height = Image.open(io.BytesIO(upright)).size[1]
    a, b = centres(read(cell, upright)), centres(read(cell, turned))
    shared = [w for w in ("Thompson,", "warehouse", "Ellison", "November") if w in a and w in b]
    assert len(shared) >= 3
    for word in shared:
        (x, y), (u, v) = a[word], b[word]
        # a clockwise quarter turn takes (x, y) to (height - 1 - y, x)
        assert abs(u - (height - 1 - y)) <= 4 and abs(v - x) <= 4, (word, a[word], b[word])


def test_a_quad_follows_a_skewed_word(cell: OcrCell) -> None:
    result = read(cell, photograph("receipt-es", Shot(skew=15)))
    words = result["words"]
    assert isinstance(words, list)
    word = next(w for w in words if w["text"] == "Tostada")
    (x0, y0), (x1, y1) = word["quad"][0], word["quad"][1]
    slope = np.degrees(np.arctan2(y1 - y0, x1 - x0))
    assert abs(slope - 15) <= 2, word["quad"]
    x, y, w, h = word["box"]
    assert all(x - 1 <= px <= x + w + 1 and y - 1 <= py <= y + h + 1 for px, py in word["quad"])


def test_the_searchable_pdf_holds_the_text(cell: OcrCell) -> None:
    import pypdfium2 as pdfium

    answer = cell.run(
        CellContext("r", None), Payload("image", photograph("letter-es", Shot(skew=8)))
    )
    pdf = answer.artifacts["searchable.pdf"]
    assert pdf.media_type == "application/pdf"
    document = pdfium.PdfDocument(pdf.data)
    try:
        page = document[0]
        text = page.get_textpage().get_text_range()
    finally:
        document.close()
    assert similarity(truth("letter-es"), text) >= 0.9, text
    bare = cell.run(
        CellContext("r", None, {"pdf": False}), Payload("image", photograph("letter-es", Shot()))
    )
    assert "searchable.pdf" not in bare.artifacts


def test_a_pdf_of_two_pages_gives_a_searchable_pdf_of_two_pages(cell: OcrCell) -> None:
    import pypdfium2 as pdfium

    scans = [
        Image.open(io.BytesIO(photograph(name, Shot(skew=5))))
        for name in ("letter-en", "letter-es")
    ]
    source = io.BytesIO()
    scans[0].save(source, format="PDF", save_all=True, append_images=scans[1:], resolution=150)
    answer = cell.run(CellContext("r", None), Payload("pdf", source.getvalue()))
    pages = answer.result["pages"]
    assert [p["page"] for p in pages] == [1, 2]
    assert similarity(truth("letter-en"), pages[0]["text"]) >= 0.95
    assert similarity(truth("letter-es"), pages[1]["text"]) >= 0.95
    document = pdfium.PdfDocument(answer.artifacts["searchable.pdf"].data)
    try:
        assert len(document) == 2
    finally:
        document.close()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"psm": 5}, "params.psm"),
        ({"prepare": "maybe"}, "params.prepare"),
        ({"dpi": 3}, "params.dpi"),
    ],
)
def test_bad_params_are_refused_naming_them(
    cell: OcrCell, params: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        cell.check_params(params)
    assert caught.value.field == field


def test_quarter_turn_matrices_move_points_with_the_pixels() -> None:
    image = np.zeros((30, 50), np.uint8)
    image[7, 11] = 255
    for degrees in (90, 180, 270):
        turned, matrix = quarter_turns(image, degrees)
        y, x = np.argwhere(turned == 255)[0]
        mapped = matrix @ np.array([11, 7, 1.0])
        assert (round(mapped[0]), round(mapped[1])) == (x, y), degrees


def test_rotate_keeps_every_corner_and_maps_points() -> None:
    image = np.full((200, 300), 255, np.uint8)
    image[50:54, 100:104] = 0
    turned, matrix = rotate(image, 30.0)
    assert turned.shape[0] > 200 and turned.shape[1] > 300
    ys, xs = np.nonzero(turned < 128)
    mapped = matrix @ np.array([101.5, 51.5, 1.0])
    assert abs(xs.mean() - mapped[0]) < 2 and abs(ys.mean() - mapped[1]) < 2


def test_the_rows_tell_upright_from_upside_down() -> None:
    printed = np.asarray(page("letter-en"))
    assert ink_balance(printed) > 0.25
    assert ink_balance(np.ascontiguousarray(printed[::-1, ::-1])) < -0.25


def test_text_angle_finds_rows_running_up_and_down() -> None:
    printed = np.asarray(page("letter-es"))
    angle, vertical = text_angle(np.ascontiguousarray(np.rot90(printed)))
    assert vertical and abs(angle) < 1.0
    angle, vertical = text_angle(printed)
    assert not vertical and abs(angle) < 1.0


def test_a_blank_page_is_left_as_it_is() -> None:
    blank = np.full((400, 300), 240, np.uint8)
    prepared = prepare(blank)
    assert prepared.steps["rotated"] == 0 and prepared.steps["deskew"] == 0.0
    assert prepared.steps["document"] is False
    assert np.allclose(prepared.matrix, np.eye(3))


def test_a_sliver_is_read_as_it_is(cell: OcrCell) -> None:
    out = io.BytesIO()
    Image.new("L", (4000, 3), 255).save(out, format="PNG")
    result = read(cell, out.getvalue())
    assert result["text"] == "" and result["words"] == []
    steps = result["preparation"]
    assert isinstance(steps, dict) and steps["skipped"] == "smaller than 64 px"
