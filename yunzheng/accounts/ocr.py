"""Reading the portrait side of a PRC resident identity card (居民身份证人像面), offline.

`read_id_card_front(image_bytes)` runs rapidocr on the image and `parse_id_card_lines` turns its text
lines into prefill fields. The result is only a *prefill*: the user checks and corrects every field,
and the services validate what is submitted.

The OCR engine loads once per process from the models that ship inside the rapidocr wheel: when a
server worker starts (`warm_up`, called by the gunicorn hook in config/gunicorn.py or, for other
servers, by config/wsgi.py with YUNZHENG_WARM_UP=1), else on the first photo (2-6 s later). The
model paths are passed explicitly, so rapidocr never takes its "download the model" branch: no
network access at run time. Photos are read in a bounded pool, one at a time per process on one
core (`read_id_card_front`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from stdnum.cn import ric

from yunzheng.accounts.conf import app_settings
from yunzheng.core.logging import adopt_library_logger

_MODEL_FILES = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

_engine: Any = None
_engine_lock = threading.Lock()
# rapidocr keeps per-call state in its pipeline objects; one call at a time per process.
_run_lock = threading.Lock()
_admission: threading.BoundedSemaphore | None = None


class OcrUnavailable(RuntimeError):
    """The OCR engine could not be loaded (missing models, broken onnxruntime)."""


class OcrBusy(RuntimeError):
    """Every OCR place of this process is taken (one photo being read, the others waiting)."""


def _admission_slots() -> threading.BoundedSemaphore:
    """The bounded pool in front of the engine: photos running or waiting in this process.

    One photo is read at a time per process (on one core, see `_model_params`) and at most
    ACCOUNTS_OCR_QUEUE (default 2: one reading, one waiting) request threads are held by OCR; a
    further photo is refused at once with OcrBusy instead of tying up another thread, so a burst
    of large uploads cannot take every thread of a worker.
    """
    global _admission
    if _admission is None:
        with _engine_lock:
            if _admission is None:
                _admission = threading.BoundedSemaphore(max(1, int(app_settings.ACCOUNTS_OCR_QUEUE)))
    return _admission


def _model_params() -> dict[str, Any]:
    import rapidocr

    adopt_library_logger("RapidOCR")
    model_dir = Path(rapidocr.__file__).resolve().parent / "models"
    params: dict[str, Any] = {"Global.log_level": "warning"}
    for key, filename in _MODEL_FILES.items():
        path = model_dir / filename
        if not path.is_file():
            raise OcrUnavailable(f"rapidocr model {path} is missing; reinstall rapidocr")
        params[key] = str(path)
    # ID photos come upright (core.uploads already applied the EXIF orientation), so the per-line
    # 180° classifier mostly costs time (~0.5 s here); ACCOUNTS_OCR_USE_CLS=True turns it back on.
    params["Global.use_cls"] = bool(app_settings.ACCOUNTS_OCR_USE_CLS)
    # Text detection on the photo scaled to at most 736 px on its longer side (rapidocr's default
    # scales the *shorter* side up to 736: a card photo became 1167 × 736). The card's 26-30 px
    # labels stay legible; measured 0.65 s of CPU per photo instead of 1.9 s, same fields read.
    params["Det.limit_type"] = "max"
    params["Det.limit_side_len"] = int(app_settings.ACCOUNTS_OCR_DETECTION_SIDE)
    # One core per photo: with other requests and other photos on the machine, more onnxruntime
    # threads only contend (1.2 s of CPU with 1 thread against 1.9 s with 2, and faster wall-clock).
    threads = int(app_settings.ACCOUNTS_OCR_THREADS)
    params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
    params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    return params


def get_engine() -> Any:
    """The process-wide RapidOCR instance, created on first use (or by `warm_up`)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                from rapidocr import RapidOCR

                _engine = RapidOCR(params=_model_params())
                adopt_library_logger("RapidOCR")
    return _engine


def warm_up() -> float:
    """Load the models and run one small recognition, so the first photo costs what later ones do.

    onnxruntime allocates its buffers and picks kernels on the first run of each model, so a bare
    load is not enough. Returns the seconds it took.
    """
    started = time.perf_counter()
    engine = get_engine()
    sample = Image.new("RGB", (320, 96), (250, 250, 250))
    ImageDraw.Draw(sample).rectangle((20, 30, 300, 60), fill=(20, 20, 20))  # something to detect
    with _run_lock:
        engine(sample)
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdCardFields:
    """What the portrait side says; empty strings / None where it could not be read."""

    name: str = ""
    sex: str = ""  # "M", "F" or ""
    ethnicity: str = ""
    birth_date: dt.date | None = None
    address: str = ""
    id_number: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | None) -> IdCardFields:
        if not raw:
            return cls()
        data = json.loads(raw)
        birth = data.get("birth_date")
        return cls(
            name=data.get("name", ""),
            sex=data.get("sex", ""),
            ethnicity=data.get("ethnicity", ""),
            birth_date=dt.date.fromisoformat(birth) if birth else None,
            address=data.get("address", ""),
            id_number=data.get("id_number", ""),
        )

    @property
    def is_empty(self) -> bool:
        return self == IdCardFields()


# The labels printed on the card, in order. Spaces are removed before matching ("姓  名" -> "姓名").
_NAME, _SEX, _ETHNICITY, _BIRTH, _ADDRESS, _NUMBER = "name", "sex", "ethnicity", "birth", "address", "number"
_LABELS: list[tuple[str, str]] = [
    ("公民身份号码", _NUMBER),
    ("公民身份号", _NUMBER),
    ("身份号码", _NUMBER),
    ("姓名", _NAME),
    ("性别", _SEX),
    ("民族", _ETHNICITY),
    ("出生", _BIRTH),
    ("住址", _ADDRESS),
]
_LABEL_PATTERN = re.compile("|".join(re.escape(label) for label, _key in _LABELS))
_LABEL_KEYS = dict(_LABELS)

_ID_NUMBER = re.compile(r"(?<!\d)(\d{17}[\dX])(?![\dX])")
_BIRTH_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?")
# Han characters and the middle dot used in transliterated names (e.g. 买买提·艾力).
_NAME_CHARS = re.compile(r"[\u3400-\u9fff·•]+")
_HAN = re.compile(r"[\u3400-\u9fff]+")
# OCR confusions seen in the number line: the multiplication sign or lower-case x for X, O for 0.
_NUMBER_FIXES = str.maketrans({"×": "X", "x": "X", "O": "0", "o": "0", "I": "1", "l": "1"})


def _normalise(line: str) -> str:
    text = unicodedata.normalize("NFKC", line)
    return re.sub(r"\s+", "", text)


def _segments(lines: Sequence[str]) -> list[tuple[str | None, str]]:
    """Split the lines into (label key, text) pieces; text before any label has key None.

    A line may hold several labels ("性别男民族汉") or a label glued to its value ("姓名张三").
    """
    pieces: list[tuple[str | None, str]] = []
    for raw in lines:
        line = _normalise(raw)
        if not line:
            continue
        position = 0
        for match in _LABEL_PATTERN.finditer(line):
            if match.start() > position:
                pieces.append((None, line[position : match.start()]))
            pieces.append((_LABEL_KEYS[match.group()], ""))
            position = match.end()
        if position < len(line):
            pieces.append((None, line[position:]))
    return pieces


def _group_by_label(lines: Sequence[str]) -> dict[str, list[str]]:
    """Each label's value pieces: the text glued to it and the unlabelled lines that follow."""
    groups: dict[str, list[str]] = {}
    current: str | None = None
    for key, text in _segments(lines):
        if key is not None:
            current = key
            groups.setdefault(key, [])
        elif current is not None:
            groups[current].append(text)
        else:
            groups.setdefault("", []).append(text)
    return groups


def _parse_birth_date(text: str) -> dt.date | None:
    match = _BIRTH_DATE.search(text)
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _find_id_number(texts: Sequence[str]) -> str:
    for text in texts:
        match = _ID_NUMBER.search(text.upper().translate(_NUMBER_FIXES))
        if match:
            return match.group(1)
    return ""


def parse_id_card_lines(lines: Sequence[str]) -> IdCardFields:
    """Prefill fields from OCR text lines of an ID card's portrait side, tolerant of merged or split
    label/value boxes. Sex and birth date fall back to what a checksum-valid ID number encodes."""
    groups = _group_by_label(lines)

    def first(key: str) -> str:
        return next((piece for piece in groups.get(key, []) if piece), "")

    name_match = _NAME_CHARS.search(first(_NAME))
    name = name_match.group().replace("•", "·").strip("·") if name_match else ""

    sex_text = "".join(groups.get(_SEX, []))
    sex = "M" if "男" in sex_text else "F" if "女" in sex_text else ""

    ethnicity_match = _HAN.search(first(_ETHNICITY))
    ethnicity = ethnicity_match.group()[:10] if ethnicity_match else ""

    birth_date = _parse_birth_date("".join(groups.get(_BIRTH, [])))

    # The number usually follows its label, but the label is sometimes not recognised at all.
    number_texts = ["".join(groups.get(_NUMBER, []))] + [_normalise(line) for line in lines]
    id_number = _find_id_number(number_texts)

    # Without its label, the number line would otherwise be read as the end of the address.
    address = "".join(
        piece
        for piece in groups.get(_ADDRESS, [])
        if not (id_number and _find_id_number([piece]) == id_number)
    )[:120]

    if id_number and ric.is_valid(id_number):
        if birth_date is None:
            birth_date = ric.get_birth_date(id_number)
        if not sex:
            sex = "M" if int(id_number[16]) % 2 else "F"
    return IdCardFields(
        name=name,
        sex=sex,
        ethnicity=ethnicity,
        birth_date=birth_date,
        address=address,
        id_number=id_number,
    )


# --------------------------------------------------------------------------------------------
# Running the OCR
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OcrReading:
    fields: IdCardFields
    line_count: int
    seconds: float


# A card filling a phone photo is legible at this size; detection time grows with the pixel count
# (a 4000 x 3000 photo would be read at rapidocr's 2000-pixel cap, several times slower).
OCR_MAX_SIDE = 1280


def read_id_card_front(image: bytes) -> OcrReading:
    """OCR a (validated, re-encoded) photo of the portrait side and parse it.

    Raises OcrBusy at once when this process already has its bounded number of photos in OCR.
    """
    slots = _admission_slots()
    if not slots.acquire(blocking=False):
        raise OcrBusy("every OCR place of this process is taken")
    try:
        engine = get_engine()
        started = time.perf_counter()
        opened = Image.open(io.BytesIO(image))
        opened.draft("RGB", (OCR_MAX_SIDE, OCR_MAX_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
        picture = opened.convert("RGB")
        picture.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE))
        with _run_lock:
            result = engine(picture)
        elapsed = time.perf_counter() - started
    finally:
        slots.release()
    lines = [str(text) for text in (result.txts or ())]
    return OcrReading(fields=parse_id_card_lines(lines), line_count=len(lines), seconds=elapsed)
