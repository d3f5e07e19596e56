"""The recording formats ecgad reads, in one table: their extensions, how each is read, and which
files a record needs. ``readers`` dispatches on it; the web upload form checks and describes
uploads with it. Beat files (``beatfile``: one beat per row) take ``BEAT_FILE_EXTENSIONS``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class Format:
    name: str                         # as stored and passed as ``read_recording(format=...)``
    extensions: tuple[str, ...]       # lower case, with the dot; the first is the file a record is opened by
    reader: str                       # what reads it (for people: docs and messages)
    needs: str                        # the files a record needs, for people
    single_file: bool = True          # else a header with the files it names
    annotations: tuple[str, ...] = ()  # extensions of reference beat annotations it may come with


WFDB = Format("wfdb", (".hea", ".dat"), "wfdb (PhysioNet)",
              "a WFDB record: its .hea header and the signal files it names (.dat), "
              "with its .atr annotations if you have them", single_file=False, annotations=(".atr",))
EDF = Format("edf", (".edf", ".bdf", ".rec"), "pyedflib", "one EDF/EDF+ (or BDF) file")
CSV = Format("csv", (".csv",), "ecgad's own text reader",
             "one CSV file, one column per lead, with a time column or the sampling rate given")
TSV = Format("tsv", (".tsv", ".txt"), "ecgad's own text reader",
             "one TSV (or .txt) file, one column per lead, with a time column or the sampling rate given")
FORMATS: tuple[Format, ...] = (WFDB, EDF, CSV, TSV)
BY_NAME = {f.name: f for f in FORMATS}
BY_EXTENSION = {ext: f for f in FORMATS for ext in f.extensions}
SINGLE_FILE_EXTENSIONS = tuple(ext for f in FORMATS if f.single_file for ext in f.extensions)
ANNOTATION_EXTENSIONS = tuple(ext for f in FORMATS for ext in f.annotations)
BEAT_FILE_EXTENSIONS = (".csv", ".tsv", ".txt", ".json")  # beatfile reads them by content, not by name
ACCEPTED = ("Upload one EDF file, one CSV or TSV file (with a time column or the sampling rate), "
            "or a WFDB record: its .hea and .dat files together, with its .atr annotations if you have them.")


def format_of(name: str | PurePath) -> Format | None:
    """The format a file's extension says (None when it says none)."""
    return BY_EXTENSION.get(PurePath(name).suffix.lower())
