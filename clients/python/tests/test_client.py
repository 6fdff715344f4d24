"""The client against a live server: VISIONLABEL_URL, VISIONLABEL_TOKEN (an owner's write token) and VISIONLABEL_SHARED
(the ../shared folder: coco128 photos and a YOLO model). Run by `./visionlabel test` (PythonClientTests starts the
server); by hand: `PYTHONPATH=src python3 -m unittest discover -s tests -v` with those three set."""
import json
import os
import shutil
import tempfile
import unittest
import uuid
from unittest import mock
from pathlib import Path

from visionlabel import Client, Job, Project, UploadResult, VisionLabelError

SHARED = Path(os.environ.get("VISIONLABEL_SHARED", "../shared"))
PHOTOS = SHARED / "datasets" / "coco128" / "images" / "train2017"
MODEL = SHARED / "models" / "yolov8n-det-int8-640.onnx"


class ClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.environ.get("VISIONLABEL_TOKEN"):
            raise unittest.SkipTest("set VISIONLABEL_URL and VISIONLABEL_TOKEN to a live server")
        cls.vl = Client()
        cls.folder = Path(tempfile.mkdtemp())
        for photo in sorted(PHOTOS.glob("*.jpg"))[:3]:
            shutil.copy(photo, cls.folder / photo.name)
        (cls.folder / "notes.txt").write_text("not an image: left out")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def new_project(self, labels=("person", "bowl")) -> Project:
        return self.vl.create_project("py-" + uuid.uuid4().hex[:8], labels)

    def test_projects_and_labels(self):
        project = self.new_project()
        self.assertIsInstance(project, Project)
        self.assertEqual(["person", "bowl"], [label.name for label in project.labels])
        cup = self.vl.add_label(project.id, "cup")
        self.assertEqual({"person", "bowl", "cup"}, {label.name for label in self.vl.labels(project.id)})
        self.assertEqual(cup.id, self.vl.project(project.id).label("cup").id)
        self.assertIn(project.id, [p.id for p in self.vl.projects()])

    def test_bad_input_raises_with_the_field_named(self):
        with self.assertRaises(VisionLabelError) as refused:
            self.vl.create_project("", ["x"])
        self.assertEqual(400, refused.exception.status)
        self.assertIn("name", refused.exception.errors)
        with mock.patch.dict(os.environ, {"VISIONLABEL_TOKEN": ""}), self.assertRaises(ValueError):
            Client(url=self.vl.url)  # no token anywhere: said at once, not as a 401 later

    def test_upload_prelabel_export_and_figures(self):
        project = self.new_project([])
        uploaded = self.vl.upload_folder(project.id, self.folder, batch=2)
        self.assertIsInstance(uploaded, UploadResult)
        self.assertEqual(3, uploaded.created)
        self.assertEqual(sorted(p.name for p in self.folder.glob("*.jpg")), sorted(i.file_name for i in uploaded.images))
        self.assertEqual(3, self.vl.upload_folder(project.id, self.folder).duplicates)  # the same bytes again
        self.assertEqual(3, len(self.vl.images(project.id, limit=2)))  # paged

        model = self.vl.upload_model(MODEL)
        self.assertIn("person", model.class_names)
        for name in model.class_names:
            self.vl.add_label(project.id, name)
        job = self.vl.prelabel(project.id, model.id, confidence=0.3)
        self.assertIsInstance(job, Job)
        self.assertEqual(("completed", 3, 0), (job.status, job.done, job.failed))
        proposals = [a for i in uploaded.images for a in self.vl.annotations(i.id)]
        self.assertTrue(proposals)
        self.assertTrue(all(a["state"] == "proposed" and a["source"]["score"] >= 0.3 for a in proposals))

        with tempfile.TemporaryDirectory() as out:
            result = self.vl.export(project.id, out, format="coco", scope="all", states="accepted,proposed")
            coco = json.loads((Path(out) / "annotations" / "instances.json").read_text())
            self.assertEqual(len(proposals), len(coco["annotations"]))
            self.assertEqual(len(proposals), result.summary["annotations"])
            self.assertEqual(3, sum(1 for name in result.files if name.endswith(".jpg")))

        # A model of our own: COCO results by file name; labels without imported ids are numbered 1, 2, … in label
        # order (as the project's own COCO export numbers them), so "person", the first label added, is 1.
        target = uploaded.images[0]
        report = self.vl.import_predictions(project.id, [
            {"file_name": target.file_name, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.9},
            {"file_name": "no-such-photo.jpg", "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5},
        ], model="my-model")
        self.assertEqual((1, 1), (report.created, report.refused_count))
        self.assertEqual(1, report.refused[0]["row"])
        mine = [a for a in self.vl.annotations(target.id) if a["source"].get("modelId") == "my-model"]
        self.assertEqual(1, len(mine))
        self.assertEqual({"x": 10, "y": 20, "width": 30, "height": 40}, {k: mine[0]["geometry"][k] for k in ("x", "y", "width", "height")})
        self.assertEqual("person", next(l.name for l in self.vl.labels(project.id) if l.id == mine[0]["labelId"]))

        queue = self.vl.queue(project.id)
        self.assertTrue(queue.counts)
        quality = self.vl.quality(project.id)
        self.assertEqual(0, quality.submissions)  # nothing reviewed yet
        self.assertIsInstance(quality.rows, list)


if __name__ == "__main__":
    unittest.main()
