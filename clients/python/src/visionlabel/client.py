"""The HTTP client: urllib only, JSON in and out, ProblemDetails turned into VisionLabelError."""
from __future__ import annotations

import io
import json
import mimetypes
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .models import (ExportResult, Image, Job, Label, Model, PredictionsReport, Project, QualityReport, QueueFigures,
                     UploadResult, from_json)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")


class VisionLabelError(Exception):
    """A refused request: the HTTP status and the server's ProblemDetails (title, detail, errors by field)."""

    def __init__(self, status: int, title: str, detail: str = "", errors: Optional[Dict[str, List[str]]] = None):
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or {}


class Client:
    """A VisionLabel server, as one account (its personal access token).

    >>> vl = Client("http://localhost:5080")          # token from VISIONLABEL_TOKEN
    >>> project = vl.create_project("shop", ["bottle", "can"])
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 120):
        self.url = (url or os.environ.get("VISIONLABEL_URL") or "http://localhost:5080").rstrip("/")
        self.token = token or os.environ.get("VISIONLABEL_TOKEN")
        if not self.token:
            raise ValueError("no token: pass token= or set VISIONLABEL_TOKEN (create one on the account page)")
        self.timeout = timeout

    # --- plumbing -------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, Any]] = None,
                data: Optional[bytes] = None, content_type: Optional[str] = None, raw: bool = False) -> Any:
        """One call; JSON decoded (or the bytes with raw=True). Raises VisionLabelError for a 4xx/5xx."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                problem = json.loads(text)
            except ValueError:
                problem = {"title": e.reason, "detail": text[:500]}
            raise VisionLabelError(e.code, problem.get("title", e.reason), problem.get("detail", ""), problem.get("errors")) from None
        if raw:
            return payload
        return json.loads(payload) if payload else None

    @staticmethod
    def _multipart(files: Sequence[Tuple[str, str, bytes]], fields: Optional[Dict[str, str]] = None) -> Tuple[bytes, str]:
        boundary = "vl" + uuid.uuid4().hex
        out = io.BytesIO()
        for name, value in (fields or {}).items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for field, filename, content in files:
            kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{safe}"\r\n'
                      f"Content-Type: {kind}\r\n\r\n".encode())
            out.write(content)
            out.write(b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
        return out.getvalue(), f"multipart/form-data; boundary={boundary}"

    # --- projects and labels --------------------------------------------------------------------------------------

    def projects(self) -> List[Project]:
        return [Project.parse(p) for p in self.request("GET", "/api/projects")]

    def project(self, project_id: str) -> Project:
        return Project.parse(self.request("GET", f"/api/projects/{project_id}"))

    def create_project(self, name: str, labels: Iterable[str] = (), description: Optional[str] = None) -> Project:
        body: Dict[str, Any] = {"name": name, "labels": [{"name": n} for n in labels]}
        if description:
            body["description"] = description
        return Project.parse(self.request("POST", "/api/projects", body))

    def labels(self, project_id: str) -> List[Label]:
        return [from_json(Label, label) for label in self.request("GET", f"/api/projects/{project_id}/labels")]

    def add_label(self, project_id: str, name: str, color: Optional[str] = None) -> Label:
        body = {"name": name, **({"color": color} if color else {})}
        return from_json(Label, self.request("POST", f"/api/projects/{project_id}/labels", body))

    # --- images ---------------------------------------------------------------------------------------------------

    def upload_folder(self, project_id: str, folder: Union[str, Path], batch: int = 32) -> UploadResult:
        """Uploads every image in the folder (not its subfolders), `batch` files a request; duplicates are skipped by the server."""
        paths = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        total = UploadResult(0, 0, {}, [])
        for start in range(0, len(paths), batch):
            files = [("files", p.name, p.read_bytes()) for p in paths[start:start + batch]]
            data, kind = self._multipart(files)
            summary = self.request("POST", f"/api/projects/{project_id}/images", data=data, content_type=kind)
            total.created += summary.get("created", 0)
            total.duplicates += summary.get("duplicates", 0)
            total.rejected.update(summary.get("rejected") or {})
            total.images += [from_json(Image, f["image"]) for f in summary.get("files", []) if f.get("image")]
        return total

    def images(self, project_id: str, limit: int = 500) -> List[Image]:
        out: List[Image] = []
        while True:
            page = self.request("GET", f"/api/projects/{project_id}/images", query={"offset": len(out), "limit": limit})
            out += [from_json(Image, i) for i in page["items"]]
            if not page["items"] or len(out) >= page["total"]:
                return out

    def annotations(self, image_id: str) -> List[Dict[str, Any]]:
        return self.request("GET", f"/api/images/{image_id}/annotations")

    # --- models, pre-labeling, predictions --------------------------------------------------------------------------

    def models(self) -> List[Model]:
        return [from_json(Model, m) for m in self.request("GET", "/api/models")]

    def upload_model(self, path: Union[str, Path], names: Optional[Union[str, Path]] = None) -> Model:
        files = [("file", Path(path).name, Path(path).read_bytes())]
        if names:
            files.append(("names", Path(names).name, Path(names).read_bytes()))
        data, kind = self._multipart(files)
        return from_json(Model, self.request("POST", "/api/models", data=data, content_type=kind))

    def job(self, job_id: str) -> Job:
        return from_json(Job, self.request("GET", f"/api/jobs/{job_id}"))

    def wait(self, job: Union[Job, str], timeout: float = 3600, poll: float = 1.0) -> Job:
        """Polls the job until it ends (completed, cancelled or dead); TimeoutError after `timeout` seconds."""
        job_id = job.id if isinstance(job, Job) else job
        deadline = time.monotonic() + timeout
        while True:
            current = self.job(job_id)
            if current.finished:
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {current.status} ({current.done}/{current.total}) after {timeout} s")
            time.sleep(poll)

    def prelabel(self, project_id: str, model_id: str, wait: bool = True, **options: Any) -> Job:
        """Starts a pre-labeling job (options as the API names them: confidence, iou, imageIds, tiling, …) and, by default, waits for it."""
        job = from_json(Job, self.request("POST", f"/api/projects/{project_id}/prelabel", {"modelId": model_id, **options}))
        return self.wait(job) if wait else job

    def import_predictions(self, project_id: str, predictions: Union[str, Path, List[Dict[str, Any]]], model: str,
                           format: str = "coco") -> PredictionsReport:
        """Imports a model's predictions as proposals (source model:NAME): COCO results (a list, or a .json file) or a zip of YOLO txt files."""
        query = {"format": format, "model": model}
        if isinstance(predictions, list):
            report = self.request("POST", f"/api/projects/{project_id}/predictions", predictions, query=query)
        elif format == "coco":
            report = self.request("POST", f"/api/projects/{project_id}/predictions", query=query,
                                  data=Path(predictions).read_bytes(), content_type="application/json")
        else:
            data, kind = self._multipart([("file", Path(predictions).name, Path(predictions).read_bytes())])
            report = self.request("POST", f"/api/projects/{project_id}/predictions", query=query, data=data, content_type=kind)
        return PredictionsReport(created=report.get("created", 0), images=report.get("images", 0), refused=report.get("refused", []),
                                 refused_count=report.get("refusedCount", len(report.get("refused", []))), raw=report)

    # --- exports and figures --------------------------------------------------------------------------------------

    def export(self, project_id: str, folder: Union[str, Path], format: str = "coco", **choices: Any) -> ExportResult:
        """Downloads an export (choices as the API names them: scope, states, val, slice, …) and unpacks it into `folder`."""
        query = {"format": format, **{k: (str(v).lower() if isinstance(v, bool) else v) for k, v in choices.items()}}
        payload = self.request("GET", f"/api/projects/{project_id}/export", query=query, raw=True)
        target = Path(folder).resolve()
        target.mkdir(parents=True, exist_ok=True)
        names: List[str] = []
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for entry in archive.infolist():
                path = (target / entry.filename).resolve()
                if target not in path.parents and path != target:
                    raise VisionLabelError(0, "Unsafe export", f"the entry {entry.filename!r} would land outside {target}")
                if entry.is_dir():
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(entry))
                names.append(entry.filename)
        summary_path = target / "visionlabel-export.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        return ExportResult(str(target), names, summary)

    def queue(self, project_id: str) -> QueueFigures:
        work = self.request("GET", f"/api/projects/{project_id}/work")
        return QueueFigures(counts=work.get("counts", {}), leases=work.get("leases", []), people=work.get("people", []))

    def quality(self, project_id: str, group_by: Optional[str] = None, iou: Optional[float] = None) -> QualityReport:
        report = self.request("GET", f"/api/projects/{project_id}/quality", query={"groupBy": group_by, "iou": iou})
        return QualityReport(group_by=report.get("groupBy", ""), iou=report.get("iou", 0.0), submissions=report.get("submissions", 0),
                             rows=report.get("rows", []))
