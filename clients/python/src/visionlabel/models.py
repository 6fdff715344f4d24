"""Typed results of the API, as dataclasses built from its JSON (unknown fields are ignored, so newer servers work)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Type, TypeVar

T = TypeVar("T")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def from_json(cls: Type[T], data: Dict[str, Any]) -> T:
    """Builds a dataclass from camelCase JSON, keeping the fields it declares."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{_snake(k): v for k, v in data.items() if _snake(k) in known})  # type: ignore[call-arg]


@dataclass
class Label:
    id: str
    name: str
    color: str = ""
    order: int = 0


@dataclass
class Project:
    id: str
    name: str
    description: Optional[str] = None
    labels: List[Label] = field(default_factory=list)

    @staticmethod
    def parse(data: Dict[str, Any]) -> "Project":
        project = from_json(Project, data)
        project.labels = [from_json(Label, label) for label in data.get("labels", [])]
        return project

    def label(self, name: str) -> Label:
        """The label of that name (KeyError when the project has none)."""
        for label in self.labels:
            if label.name == name:
                return label
        raise KeyError(f"project {self.name} has no label {name!r}")


@dataclass
class Image:
    id: str
    project_id: str
    file_name: str
    width: int
    height: int
    status: str = "new"
    format: str = ""
    tiled: bool = False


@dataclass
class UploadResult:
    created: int
    duplicates: int
    rejected: Dict[str, List[str]]
    images: List[Image]


@dataclass
class Job:
    id: str
    kind: str
    project_id: str
    status: str
    total: int = 0
    done: int = 0
    failed: int = 0
    last_error: Optional[str] = None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "cancelled", "dead")


@dataclass
class Model:
    id: str
    name: str
    family: str = ""
    task: str = ""
    class_names: List[str] = field(default_factory=list)


@dataclass
class PredictionsReport:
    """What a predictions import did: proposals created, images touched, and each refused row with its reason."""
    created: int
    images: int = 0
    refused: List[Dict[str, Any]] = field(default_factory=list)
    refused_count: int = 0
    raw: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ExportResult:
    folder: str
    files: List[str]
    summary: Dict[str, Any]


@dataclass
class QueueFigures:
    """The work overview: images per stage, leases held now, and each person's figures."""
    counts: Dict[str, Any]
    leases: List[Dict[str, Any]]
    people: List[Dict[str, Any]]


@dataclass
class QualityReport:
    """Quality scores (docs/quality.md): one row per annotator (or label), matched at IoU `iou`."""
    group_by: str
    iou: float
    submissions: int
    rows: List[Dict[str, Any]]
