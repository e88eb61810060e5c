"""Readers of case files: bytes on disk to a frame of untyped cells.

One reader per format. As in plaso, "this is not a file I can read" (wrong
encoding, not Parquet, no header) raises :class:`CaseError` and stops the
load, while "this record is damaged" (wrong field count) is recorded with
its line and reason and reading goes on. Typing the cells is not done here
but, vectorised, in :mod:`forensics.case._tables`.

Files are only ever opened for reading. A CSV file is hashed in the pass
that parses it, so the SHA-256 in the chain of custody is the hash of
exactly what was read. A Parquet file is read whole by polars (its columns
decoded in parallel) and hashed in a thread meanwhile; that it did not
change in between is checked from its inode and times.
"""

from __future__ import annotations

import bisect
import codecs
import collections
import csv
import gc
import hashlib
import io
import itertools
import operator
import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
import polars as pl

from ._cells import SPACES, nul_free_columns
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
_VALUE_CHARS = 200

MAX_FIELD_CHARS = 131_072
"""Longest cell accepted (the csv module's default limit). No cell of the
case format is that long; a longer one is almost always an unbalanced quote
that swallowed the lines after it, so its record is quarantined."""

DAMAGE_SCHEMA = pl.Schema([("row", pl.Int64()), ("reason", pl.String()), ("value", pl.String())])
"""Records that could not be split into cells: line, reason, raw text."""


@dataclass(frozen=True)
class RawTable:
    """A file read but not yet typed.

    ``frame`` has ``_row`` first, then one column per header name (CSV: all
    ``String``; Parquet: the file's own dtypes). ``header`` is empty when
    the file holds no header at all (0 bytes or only blank lines).

    ``digest`` is the SHA-256, or (Parquet) a future of it: a large file is
    hashed in a thread while polars reads it. :meth:`confirm_unchanged`
    then checks that what was hashed is what was read.
    """

    frame: pl.LazyFrame
    header: tuple[str, ...]
    records: int  # data records read, blank lines excluded
    damaged: pl.DataFrame  # DAMAGE_SCHEMA
    digest: str | Future[str]
    size: int
    format: str
    encoding: str | None
    identity: tuple[int, ...] | None = None  # (device, inode, size, times): Parquet
    omitted: frozenset[str] = frozenset()
    """Header names checked in the file but not read into ``frame``
    (:func:`read_parquet`'s ``omit``): text no cell of which could set a row
    aside. Their cells can matter only to tell duplicates apart."""

    @property
    def sha256(self) -> str:
        return self.digest if isinstance(self.digest, str) else self.digest.result()

    def confirm_unchanged(self, path: Path, file: str) -> None:
        """Raise :class:`CaseError` if ``path`` changed since it was opened.

        A Parquet file is hashed and parsed in two passes; a file that
        was replaced or written to in between would make the hash that of
        other bytes than those read.
        """
        self.sha256  # noqa: B018 - wait for the hash before looking again
        if self.identity is not None and _identity(path) != self.identity:
            raise CaseError(f"{file}: changed while it was being read", file=file)


def _identity(path: Path) -> tuple[int, ...]:
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


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


_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved = 0
_READ_FIELD_LIMIT = 2**31 - 1  # a C long everywhere; a field is never longer than its file


@contextmanager
def _large_fields() -> Iterator[None]:
    """Let the csv module read fields of any length while inside.

    ``csv.field_size_limit`` is process-wide. Rather than stop the load at
    the first field over 128 K characters, the limit is lifted while a case
    file is read (cells that long are quarantined, see
    :data:`MAX_FIELD_CHARS`) and put back afterwards. Concurrent reads share
    one lift; the last to finish restores the value it found.
    """
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            _limit_saved = csv.field_size_limit(_READ_FIELD_LIMIT)
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                csv.field_size_limit(_limit_saved)


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
    """A blank line, or one of separators and spaces only (of any width)."""
    return not any(f.strip(SPACES) for f in record)


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
    empty = pl.exclude(ROW).str.strip_chars(SPACES) == ""
    blank = frame.select(pl.all_horizontal(empty)).to_series()
    return frame.filter(~blank) if blank.any() else frame


def _has_long_cell(frame: pl.DataFrame) -> bool:
    """Whether a cell may exceed :data:`MAX_FIELD_CHARS` (bytes >= characters)."""
    if frame.is_empty() or frame.width < 2:
        return False
    longest = frame.select(pl.max_horizontal(pl.exclude(ROW).str.len_bytes()).max()).item()
    return longest is not None and longest > MAX_FIELD_CHARS


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
        with _large_fields():
            return _split_records(reader, file, delimiter)
    except csv.Error as exc:
        line = reader.line_num
        raise CaseError(f"{file} line {line}: unreadable CSV: {exc}", file=file, row=line) from exc


def _fault(record: list[str], width: int, start: int, end: int) -> str:
    """Why a record that is not kept was set aside."""
    longest = max(map(len, record), default=0)
    if longest > MAX_FIELD_CHARS:
        span = f"lines {start}-{end}" if end > start else f"line {start}"
        return (
            f"a field of {longest} characters (more than {MAX_FIELD_CHARS}) on {span}: "
            "an unbalanced quote?"
        )
    return f"expected {width} fields, found {len(record)}"


def _split_records(reader, file: str, delimiter: str):
    ends = map(operator.attrgetter("line_num"), itertools.repeat(reader))
    pairs = zip(reader, ends)  # noqa: B905 - ``ends`` is infinite by design
    header: tuple[str, ...] = ()
    last_end = 0
    for record, end in pairs:
        if not _is_blank(record):
            if max(map(len, record)) > MAX_FIELD_CHARS:
                raise CaseError(
                    f"{file} line {last_end + 1}: the header has a field of more than "
                    f"{MAX_FIELD_CHARS} characters (an unbalanced quote?)",
                    file=file,
                    row=last_end + 1,
                )
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
            frame = _batch_frame(names, recs, starts)
            if not _has_long_cell(frame):
                frames.append(frame)
                records += frame.height
                continue
        # Rare: records of the wrong width or with a huge cell; look at each.
        oversized = max(map(len, itertools.chain.from_iterable(recs)), default=0) > MAX_FIELD_CHARS
        keep = [n == width for n in lengths]
        if oversized:  # rare: only then look at every record's cells
            keep = [
                k and max(map(len, r)) <= MAX_FIELD_CHARS for k, r in zip(keep, recs, strict=True)
            ]
        for i in itertools.compress(range(len(recs)), [not k for k in keep]):
            if _is_blank(recs[i]):
                continue
            records += 1
            start = int(starts[i])
            damaged.append(
                (
                    start,
                    _fault(recs[i], width, start, batch_ends[i]),
                    delimiter.join(f[:_VALUE_CHARS] for f in recs[i])[:_VALUE_CHARS],
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


def _parse(path: Path, file: str, enc: str, errors: str, delimiter: str):
    """One pass over the file: hash, header, frames, damaged records, count."""
    with open(path, "rb") as fh, _gc_paused():
        raw = _HashingReader(fh)
        text = io.TextIOWrapper(
            io.BufferedReader(raw, _CHUNK), encoding=enc, errors=errors, newline=""
        )
        header, frames, damaged, records = _read_records(text, file, delimiter)
        return raw.drain(), header, frames, damaged, records


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

    Notes
    -----
    A file that does not decode as a whole is either in another encoding
    (stop: :class:`CaseError` names the line and a likely encoding) or a
    file in the right encoding holding a few lines in another, e.g. a
    GB18030 line pasted into a UTF-8 export. It is taken to be the second
    when at least one other line with non-ASCII text does decode; the
    records holding the lines that do not are then quarantined (the value
    shows their bytes as ``\\xNN``) and reading goes on. An incomplete
    character at the very end (a truncated file) is quarantined the same way.
    """
    enc = _detect_encoding(path, encoding)
    if encoding is not None:
        _refuse_utf8_declared_otherwise(path, file, encoding)
    size = path.stat().st_size
    faults: _LineFaults | None = None
    try:
        sha, header, frames, damaged, records = _parse(path, file, enc, "strict", delimiter)
    except UnicodeDecodeError as exc:
        faults = _scan_lines(path, enc)
        if faults is None or not faults.tolerable:
            raise _decode_error(
                path, file, enc, declared=encoding is not None, faults=faults
            ) from exc
        sha, header, frames, damaged, records = _parse(path, file, enc, "replace", delimiter)
        if sha != faults.sha256:
            raise CaseError(f"{file}: changed while it was being read", file=file) from exc
    if frames:
        frame = pl.concat(frames, how="vertical")
    else:
        frame = pl.DataFrame(
            schema=pl.Schema([(ROW, pl.Int64())] + [(n, pl.String()) for n in header])
        )
    if faults is not None:
        frame, damaged = _set_aside_undecodable(frame, damaged, faults, file, enc)
    return RawTable(
        frame=frame.lazy(),
        header=header,
        records=records,
        damaged=_damage_frame(damaged),
        digest=sha,
        size=size,
        format="csv",
        encoding=enc,
    )


def _refuse_utf8_declared_otherwise(path: Path, file: str, encoding: str) -> None:
    """Stop when a file declared in a legacy encoding is really UTF-8.

    GB18030 (like most legacy encodings) decodes almost any byte sequence,
    so UTF-8 text read as GB18030 raises no error: it turns into mojibake.
    Multi-byte UTF-8 is so regular that text in another encoding is almost
    never valid UTF-8, so a sample that is valid UTF-8 and not pure ASCII
    means the declaration is wrong.
    """
    name = codecs.lookup(encoding).name
    if name.startswith("utf") or name == "ascii" or not _ascii_compatible(encoding):
        return  # ASCII cannot garble silently: the reader reports the first bad line
    with open(path, "rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
    if len(sample) == _SNIFF_BYTES:  # do not judge a character cut in two
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut > 0 else sample
    if sample.isascii():
        return
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return
    line = next(n for n, text in enumerate(sample.split(b"\n"), 1) if not text.isascii())
    raise CaseError(
        f"{file} line {line}: declared {encoding} in case.toml, but the file is UTF-8 "
        f"(reading it as {encoding} would garble every non-ASCII character); fix "
        f"[files.{Path(file).stem}] encoding or remove it",
        file=file,
        row=line,
    )


# ------------------------------------------------------ undecodable lines


_KEPT_BYTES = 4096  # of each undecodable line: enough to guess and to show
_GUESSED_LINES = 20


@dataclass(frozen=True)
class _LineFaults:
    """Lines of a file that do not decode, and what the others look like."""

    bad: tuple[tuple[int, int, bytes], ...]  # (line, byte offset, the line's bytes)
    wide_ok: int  # lines with non-ASCII bytes that decode
    truncated_tail: bool  # the only fault: an incomplete character ending the file
    sha256: str = field(default="", compare=False)

    @property
    def tolerable(self) -> bool:
        """Quarantine the bad lines rather than reject the file."""
        return bool(self.bad) and (self.wide_ok > 0 or self.truncated_tail)


def _ascii_compatible(encoding: str) -> bool:
    """Line ends, quotes and separators are the ASCII bytes, one per character."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32", "utf-7")):
        return False
    probe = '\n\r,;"\t|'
    try:
        return probe.encode(encoding) == probe.encode("ascii")
    except UnicodeError:
        return False


def _physical_lines(fh: io.BufferedReader, digest) -> Iterator[tuple[int, bytes]]:
    """(byte offset, bytes) of each line as the csv module counts lines:
    ended by ``\n``, ``\r\n`` or a lone ``\r``; line ends excluded."""
    offset = 0
    for raw in fh:
        digest.update(raw)
        body = raw[:-1] if raw.endswith(b"\n") else raw
        if body.endswith(b"\r"):
            body = body[:-1]
        inner = offset
        for part in body.split(b"\r"):
            yield inner, part
            inner += len(part) + 1
        offset += len(raw)


def _scan_lines(path: Path, encoding: str) -> _LineFaults | None:
    """Decode ``path`` line by line (None for encodings where a line end is
    not one ASCII byte: UTF-16 and the like are all or nothing)."""
    if not _ascii_compatible(encoding):
        return None
    bad: list[tuple[int, int, bytes]] = []
    wide_ok = 0
    number = 0
    last_bad = b""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for number, (offset, line) in enumerate(_physical_lines(fh, digest), 1):  # noqa: B007
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                bad.append((number, offset, line[:_KEPT_BYTES]))
                last_bad = line
                continue
            wide_ok += not line.isascii()
    truncated = False
    if len(bad) == 1 and bad[0][0] == number:
        try:  # decodes if more bytes were to come: the file was cut mid-character
            codecs.getincrementaldecoder(encoding)().decode(last_bad, final=False)
            truncated = True
        except UnicodeDecodeError:
            pass
    return _LineFaults(tuple(bad), wide_ok, truncated, digest.hexdigest())


def _encoding_label(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "UTF-8" if name in ("utf-8", "utf-8-sig") else encoding


def _set_aside_undecodable(
    frame: pl.DataFrame,
    damaged: list[tuple[int, str, str]],
    faults: _LineFaults,
    file: str,
    encoding: str,
) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    """Move the records holding undecodable lines from ``frame`` to ``damaged``."""
    starts = sorted(set(frame[ROW].to_list()) | {row for row, _, _ in damaged})
    label = _encoding_label(encoding)
    moved: set[int] = set()
    damaged = list(damaged)
    guesses: collections.Counter[str | None] = collections.Counter()
    for line, _, data in faults.bad:
        at = bisect.bisect_right(starts, line) - 1
        if at < 0:  # the header itself
            raise CaseError(
                f"{file} line {line}: the header is not valid {label}", file=file, row=line
            )
        row = starts[at]
        if faults.truncated_tail:
            reason = "the file ends inside a multi-byte character (truncated?)"
        else:
            where = "" if line == row else f" (line {line} of this record)"
            reason = f"not valid {label}{where}"
            # Guessing is slow-ish; after a few lines, the usual answer will do.
            if sum(guesses.values()) < _GUESSED_LINES:
                guess = guess_encoding(data)
                guesses[guess] += 1
            else:
                guess = guesses.most_common(1)[0][0]
            if guess and codecs.lookup(guess).name != codecs.lookup(encoding).name:
                reason += f"; looks like {guess.upper()}"
        value = data.decode(encoding, "backslashreplace")[:_VALUE_CHARS]
        damaged.append((row, reason, value))
        moved.add(row)
    kept = frame.filter(~pl.col(ROW).is_in(sorted(moved)))
    return kept, sorted(damaged, key=lambda d: d[0])


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


def _decode_error(
    path: Path, file: str, encoding: str, *, declared: bool, faults: _LineFaults | None = None
) -> CaseError:
    if faults is not None and faults.bad:
        line, offset, _ = faults.bad[0]
    else:
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


_hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="forensics-sha256")


def read_parquet(
    path: Path,
    file: str,
    coded: Callable[[tuple[str, ...]], Collection[str]] | None = None,
    omit: Callable[[tuple[str, ...]], Collection[str]] | None = None,
) -> RawTable:
    """Read a Parquet file; ``_row`` is the 1-based record number.

    ``coded`` says, from the cleaned header, which columns to read as
    ``Categorical`` (the schema's coded columns): a text column of a few
    hundred values over millions of rows is then never held as strings.
    ``omit`` names the columns the caller will not keep (withheld personal
    data) and whose cells can set a row aside only by holding a NUL byte
    (nullable text: a padded or empty cell changes only the value, which is
    not kept). Those of text are first checked for NUL as the file is
    streamed, and then not read; any other is read as usual. They are
    listed in ``RawTable.omitted``.

    The bytes are hashed in a thread (hashlib releases the GIL) while polars
    decodes the file, and
    :meth:`RawTable.confirm_unchanged` checks afterwards that the file is
    still the one hashed.

    Raises
    ------
    CaseError
        The file is not Parquet (or is damaged beyond reading its footer).
    """
    identity = _identity(path)
    try:
        scan = pl.scan_parquet(path, hive_partitioning=False, glob=False)
        schema = scan.collect_schema()
        records = int(scan.select(pl.len()).collect().item())
    except Exception as exc:  # polars raises several types for a bad footer
        raise CaseError(f"{file}: not a readable Parquet file ({exc})", file=file) from exc
    names = [_unreserved(clean_header(n) or f"column_{i}") for i, n in enumerate(schema.names(), 1)]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise CaseError(f"{file}: column {dup!r} appears twice", file=file, column=dup)
    to_code = set(coded(tuple(names))) if coded is not None else set()
    dtypes = schema.dtypes()
    wanted = set(omit(tuple(names))) if omit is not None else set()
    strings = [i for i, n in enumerate(names) if n in wanted and dtypes[i] == pl.String]
    omitted = nul_free_columns(scan, {names[i]: i for i in strings})
    renamed = [
        (
            pl.nth(i).cast(pl.Categorical) if new in to_code and dtype == pl.String else pl.nth(i)
        ).alias(new)
        for i, (new, dtype) in enumerate(zip(names, dtypes, strict=True))
        if new not in omitted
    ]
    # Read whole rather than typed a morsel at a time: typing first looks at
    # each column as a whole (forensics._cells.text_facts), and the loaded
    # table keeps the columns that need no change as they were read, in one
    # chunk each. A column at a time, two at once: the row groups of one
    # column are copied into one chunk and freed before the next is read,
    # so that their memory serves the next (read all at once, a 22.8M-row
    # access log peaked a gigabyte higher, and took longer).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="forensics-read") as pool:
        columns = list(pool.map(lambda e: scan.select(e).collect().to_series().rechunk(), renamed))
    # ``_row`` as the loaded table holds it (Int64), so that it is shared.
    row = pl.int_range(1, records + 1, dtype=pl.Int64, eager=True).alias(ROW)
    frame = pl.DataFrame([row, *columns]).lazy()
    return RawTable(
        frame=frame,
        header=tuple(names),
        records=records,
        damaged=_damage_frame([]),
        digest=_hasher.submit(sha256_file, path),
        size=identity[2],
        format="parquet",
        encoding=None,
        identity=identity,
        omitted=frozenset(omitted),
    )
