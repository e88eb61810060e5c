"""Readers of case files: bytes on disk to a frame of untyped cells.

One reader per format. As in plaso, "this is not a file I can read" (wrong
encoding, not Parquet, no header) raises :class:`CaseError` and stops the
load, while "this record is damaged" (wrong field count) is recorded with
its line and reason and reading goes on. Typing the cells is not done here
but, vectorised, in :mod:`forensics._tables`.

Files are only ever opened for reading, and every byte parsed is hashed in
the same pass, so the SHA-256 in the chain of custody is the hash of
exactly what was read.
"""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
import itertools
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import polars as pl

from ._errors import CaseError
from .schema import ROW

__all__ = [
    "RawTable",
    "DAMAGE_SCHEMA",
    "read_csv",
    "read_parquet",
    "sha256_file",
    "clean_header",
]

_CHUNK = 1 << 20
_BATCH = 100_000
_SNIFF_BYTES = 256 * 1024
_UTF8_BOM = codecs.BOM_UTF8

DAMAGE_SCHEMA = pl.Schema([("row", pl.Int64()), ("reason", pl.String()), ("value", pl.String())])
"""Records that could not be split into cells: line, reason, raw text."""


@dataclass(frozen=True)
class RawTable:
    """A file read but not yet typed.

    ``frame`` has ``_row`` first, then one column per header name (CSV: all
    ``String``; Parquet: the file's own dtypes). ``header`` is empty when
    the file holds no header at all (0 bytes or only blank lines).
    """

    frame: pl.LazyFrame
    header: tuple[str, ...]
    records: int  # data records read, blank lines excluded
    damaged: pl.DataFrame  # DAMAGE_SCHEMA
    sha256: str
    size: int
    format: str
    encoding: str | None


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks so large files never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def clean_header(name: str) -> str:
    """A header cell as matched: surrounding whitespace and stray BOMs removed."""
    return name.replace("\ufeff", "").strip()


def _unreserved(name: str) -> str:
    # A file exported from a loaded case may carry its own ``_row``; keep it
    # under another name rather than confuse it with where the record is.
    if name.lower() == ROW:
        return f"{ROW}_in_file"
    # polars reads pl.col("*") as every column and pl.col("^...$") as a
    # regex; such a header would break any code that selects it by name.
    if name == "*" or (name.startswith("^") and name.endswith("$")):
        return f"[{name}]"
    return name


# --------------------------------------------------------------------- CSV


class _HashingReader(io.RawIOBase):
    """Binary stream that hashes every byte it hands on."""

    def __init__(self, fh: io.BufferedReader):
        self._fh = fh
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._fh.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
        return n or 0

    def drain(self) -> str:
        """Hash whatever the text layer did not read, and return the hex digest."""
        for chunk in iter(lambda: self._fh.read(_CHUNK), b""):
            self.digest.update(chunk)
        return self.digest.hexdigest()


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Reading a CSV allocates millions of small lists and tuples; the cyclic
    # garbage collector rescans them all on every generation-2 pass, which
    # made a 1M-row read ~4x slower. None of them form cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _is_blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _batch_frame(names: list[str], records, starts: pl.Series) -> pl.DataFrame:
    """Records of the right width to a frame of String columns plus ``_row``.

    Records whose every field is blank (``,,,`` lines that spreadsheets
    leave behind) are dropped: like blank lines, they are not rows.
    """
    columns = list(zip(*records, strict=True)) if records else [()] * len(names)
    frame = pl.DataFrame(
        [starts.alias(ROW)]
        + [pl.Series(name, col, dtype=pl.String) for name, col in zip(names, columns, strict=True)]
    )
    blank = frame.select(pl.all_horizontal(pl.exclude(ROW).str.strip_chars() == "")).to_series()
    return frame.filter(~blank) if blank.any() else frame


def _header_names(record: list[str], file: str, line: int) -> tuple[str, ...]:
    names: list[str] = []
    for i, raw in enumerate(record, 1):
        name = _unreserved(clean_header(raw) or f"column_{i}")
        if name in names:
            raise CaseError(
                f"{file} line {line}: column {name!r} appears twice in the header",
                file=file,
                row=line,
                column=name,
            )
        names.append(name)
    return tuple(names)


def _read_records(text: io.TextIOBase, file: str, delimiter: str):
    """Parse CSV text; return header, frames, damaged records, record count.

    ``csv.reader.line_num`` is the number of physical lines consumed so far,
    so pairing each record with it gives the line the record *ends* on; the
    next record starts on the line after. Reading that attribute through
    ``map(attrgetter)`` keeps the per-record work in C.
    """
    reader = csv.reader(text, delimiter=delimiter)
    try:
        return _split_records(reader, file, delimiter)
    except csv.Error as exc:
        # e.g. an unbalanced quote swallowing the rest of the file into one
        # field longer than the csv module's limit.
        line = reader.line_num
        raise CaseError(f"{file} line {line}: unreadable CSV: {exc}", file=file, row=line) from exc


def _split_records(reader, file: str, delimiter: str):
    ends = map(operator.attrgetter("line_num"), itertools.repeat(reader))
    pairs = zip(reader, ends)  # noqa: B905 - ``ends`` is infinite by design
    header: tuple[str, ...] = ()
    last_end = 0
    for record, end in pairs:
        if not _is_blank(record):
            header = _header_names(record, file, last_end + 1)
            last_end = end
            break
        last_end = end
    names = list(header)
    width = len(names)
    frames: list[pl.DataFrame] = []
    damaged: list[tuple[int, str, str]] = []
    records = 0
    while header:
        batch = list(itertools.islice(pairs, _BATCH))
        if not batch:
            break
        recs, batch_ends = zip(*batch, strict=True)
        starts = pl.Series(batch_ends, dtype=pl.Int64).shift(1, fill_value=last_end) + 1
        last_end = batch_ends[-1]
        lengths = list(map(len, recs))
        if lengths.count(width) == len(lengths):
            frames.append(_batch_frame(names, recs, starts))
            records += frames[-1].height
            continue
        keep = [n == width for n in lengths]
        for i in itertools.compress(range(len(recs)), [not k for k in keep]):
            if _is_blank(recs[i]):
                continue
            records += 1
            damaged.append(
                (
                    int(starts[i]),
                    f"expected {width} fields, found {lengths[i]}",
                    delimiter.join(recs[i])[:200],
                )
            )
        good = list(itertools.compress(recs, keep))
        frames.append(_batch_frame(names, good, starts.filter(pl.Series(keep))))
        records += frames[-1].height
    return header, frames, damaged, records


def _damage_frame(rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=DAMAGE_SCHEMA, orient="row")


def _detect_encoding(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    with open(path, "rb") as fh:
        head = fh.read(len(_UTF8_BOM))
    return "utf-8-sig" if head == _UTF8_BOM else "utf-8"


def read_csv(
    path: Path, file: str, *, encoding: str | None = None, delimiter: str = ","
) -> RawTable:
    """Read a CSV file into String cells, each record tagged with its line.

    Parameters
    ----------
    path : Path
        The file.
    file : str
        Its name as reported (relative to the case folder).
    encoding : str, optional
        Declared text encoding (``[files.NAME] encoding``); default UTF-8,
        with or without BOM.
    delimiter : str
        Field separator.

    Raises
    ------
    CaseError
        The file cannot be decoded (names the line and a likely encoding) or
        the CSV layer fails.
    """
    enc = _detect_encoding(path, encoding)
    size = path.stat().st_size
    with open(path, "rb") as fh, _gc_paused():
        raw = _HashingReader(fh)
        text = io.TextIOWrapper(
            io.BufferedReader(raw, _CHUNK), encoding=enc, errors="strict", newline=""
        )
        try:
            header, frames, damaged, records = _read_records(text, file, delimiter)
        except UnicodeDecodeError as exc:
            raise _decode_error(path, file, enc, declared=encoding is not None) from exc
        sha = raw.drain()
    if frames:
        frame = pl.concat(frames, how="vertical")
    else:
        frame = pl.DataFrame(
            schema=pl.Schema([(ROW, pl.Int64())] + [(n, pl.String()) for n in header])
        )
    return RawTable(
        frame=frame.lazy(),
        header=header,
        records=records,
        damaged=_damage_frame(damaged),
        sha256=sha,
        size=size,
        format="csv",
        encoding=enc,
    )


# ---------------------------------------------------------- encoding hints

# A text in encoding E, decoded as E, is mostly made of that encoding's
# *common* characters; decoded as another CJK encoding it turns into rare
# ones. The tests below look at the bytes of each non-ASCII character.
_CANDIDATES = ("gb18030", "big5", "shift_jis", "cp1252")


def _common_in(encoding: str, char: str) -> bool:
    raw = char.encode(encoding)
    lead = raw[0]
    if encoding == "gb18030":  # GB2312 symbols and level-1 hanzi
        return len(raw) == 2 and raw[1] >= 0xA1 and (0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7)
    if encoding == "big5":  # symbols and frequently used characters
        return len(raw) == 2 and (0xA1 <= lead <= 0xA3 or 0xA4 <= lead <= 0xC6)
    if encoding == "shift_jis":  # kana and JIS level-1 kanji
        return "\u3040" <= char <= "\u30ff" or (len(raw) == 2 and 0x88 <= lead <= 0x9F)
    return char.isalpha()  # cp1252: accented Latin letters


def _plausibility(sample: bytes, encoding: str) -> float:
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        return -1.0
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 0.0
    return sum(_common_in(encoding, c) for c in wide) / len(wide)


def _utf16_bom(sample: bytes) -> bool:
    return sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def guess_encoding(sample: bytes) -> str | None:
    """The encoding ``sample`` most plausibly is in, or None.

    Scores the usual suspects (GB18030, Big5, Shift-JIS, cp1252) by how
    common the decoded characters are; when none decodes, asks
    charset_normalizer.
    """
    if _utf16_bom(sample):
        return "utf-16"
    # Cut at the last line end so a multi-byte character is not split.
    cut = sample.rfind(b"\n")
    if cut > 0:
        sample = sample[: cut + 1]
    scores = {enc: _plausibility(sample, enc) for enc in _CANDIDATES}
    best = max(scores, key=lambda enc: scores[enc])  # ties: order of _CANDIDATES
    if scores[best] > 0:
        return best
    match = charset_normalizer.from_bytes(sample).best()
    return match.encoding if match is not None else None


def _first_bad_line(path: Path, encoding: str) -> tuple[int, int]:
    """(line number, byte offset of that line) of the first undecodable byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    number, offset, start = 0, 0, 0
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):  # noqa: B007 - used after the loop
            start = offset
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number, start
            offset += len(line)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return max(number, 1), start  # truncated multi-byte character at the end
    return 1, 0


def _decode_error(path: Path, file: str, encoding: str, *, declared: bool) -> CaseError:
    line, offset = _first_bad_line(path, encoding)
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0 if _utf16_bom(head) else offset)
        sample = fh.read(_SNIFF_BYTES)
    guess = guess_encoding(sample)
    table = Path(file).stem
    if declared:
        message = f"{file} line {line}: cannot be decoded as {encoding} (declared in case.toml)"
        if guess and codecs.lookup(guess).name != codecs.lookup(encoding).name:
            message += f"; looks like {guess.upper()}"
    else:
        message = f"{file} line {line}: not UTF-8"
        if guess:
            message += (
                f"; looks like {guess.upper()} — declare it in case.toml as "
                f'[files.{table}] encoding = "{guess}"'
            )
        else:
            message += f" — declare its encoding in case.toml as [files.{table}] encoding"
    return CaseError(message, file=file, row=line)


# ------------------------------------------------------------------ Parquet


def read_parquet(path: Path, file: str) -> RawTable:
    """Scan a Parquet file lazily; ``_row`` is the 1-based record number.

    Raises
    ------
    CaseError
        The file is not Parquet (or is damaged beyond reading its footer).
    """
    sha = sha256_file(path)
    size = path.stat().st_size
    try:
        scan = pl.scan_parquet(path, glob=False, hive_partitioning=False)
        schema = scan.collect_schema()
        records = int(scan.select(pl.len()).collect().item())
    except Exception as exc:  # polars raises several types for a bad footer
        raise CaseError(f"{file}: not a readable Parquet file ({exc})", file=file) from exc
    names = [_unreserved(clean_header(n) or f"column_{i}") for i, n in enumerate(schema.names(), 1)]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise CaseError(f"{file}: column {dup!r} appears twice", file=file, column=dup)
    renamed = [pl.nth(i).alias(new) for i, new in enumerate(names)]
    frame = scan.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
        *renamed,
    )
    return RawTable(
        frame=frame,
        header=tuple(names),
        records=records,
        damaged=_damage_frame([]),
        sha256=sha,
        size=size,
        format="parquet",
        encoding=None,
    )
