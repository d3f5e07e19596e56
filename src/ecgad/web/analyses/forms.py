from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, FloatField, StringField
from wtforms.validators import Length, NumberRange, Optional


class UploadForm(FlaskForm):
    file = FileField("ECG file", validators=[FileRequired(message="Choose a file to upload.")],
                     description="CSV, TSV, text or JSON: one beat per row, up to 20 MB and 10,000 beats.")
    labelled = BooleanField("First column is a label (UCR format, like the ECG5000 files)")


class RecordingForm(FlaskForm):
    files = MultipleFileField(
        "Recording files", validators=[FileRequired(message="Choose the recording's files to upload.")],
        description="EDF; CSV or TSV with a time column (or give the sampling rate); or a WFDB record's "
                    ".hea with the signal files it names (.dat), and its .atr annotations if you have them. "
                    "Up to 24 hours and 256 MB.")
    fs = FloatField("Sampling rate (Hz)", validators=[Optional(), NumberRange(min=100, max=20000,
                    message="The sampling rate must be between 100 and 20,000 Hz.")],
                    description="Only for CSV or TSV files without a time column.")
    lead = StringField("Lead", validators=[Optional(), Length(max=64)],
                       description="Name (such as II or MLII) or number, counted from 0. Default: lead II if present, "
                                   "else the first lead.")
