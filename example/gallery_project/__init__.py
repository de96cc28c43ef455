"""The example project: settings, URLs and the embedded S3 the demo runs against."""
