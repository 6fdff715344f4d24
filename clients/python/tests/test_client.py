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

        queue = self.vl.queue(project.id)
        self.assertTrue(queue.counts)
        quality = self.vl.quality(project.id)
        self.assertEqual(0, quality.submissions)  # nothing reviewed yet
        self.assertIsInstance(quality.rows, list)


if __name__ == "__main__":
    unittest.main()
