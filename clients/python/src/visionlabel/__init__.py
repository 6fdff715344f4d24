"""VisionLabel's Python client: projects, labels, uploads, pre-labeling, predictions import, exports and figures.

Standard library only. The token comes from VISIONLABEL_TOKEN unless given; the server from VISIONLABEL_URL.
"""
from .client import Client, VisionLabelError
from .models import (ExportResult, Image, Job, Label, Model, PredictionsReport, Project, QualityReport, QueueFigures,
                     UploadResult)

__all__ = ["Client", "VisionLabelError", "Project", "Label", "Image", "Job", "Model", "UploadResult", "PredictionsReport",
           "ExportResult", "QueueFigures", "QualityReport"]
__version__ = "0.1.0"
