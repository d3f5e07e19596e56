from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class UploadForm(FlaskForm):
    file = FileField("ECG file", validators=[FileRequired(message="Choose a file to upload.")],
                     description="CSV, TSV, text or JSON: one beat per row, up to 20 MB and 10,000 beats.")
    labelled = BooleanField("First column is a label (UCR format, like the ECG5000 files)")
