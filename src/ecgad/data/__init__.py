"""Reading ECG data and turning it into model-ready beats."""
