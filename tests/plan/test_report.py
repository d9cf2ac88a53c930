"""`musark report` and the --json contract of `musark plan` and `musark report`."""

from __future__ import annotations

import base64
import io
import json
import re

from PIL import Image

from musark.catalog.schema import connect
from tests.plan.conftest import query

PLOTS = ("coverage.png", "tiers.png", "popularity.png", "isrc.png")


def test_report_writes_plots_html_and_json(cat_archive, cli, artifacts_dir):
    cli("plan", "--archive", cat_archive.root, "--budget", "10GB", "--batch-size", "2000")
    numbers = cli.json("report", "--archive", cat_archive.root)
    out = cat_archive.release_dir / "report"  # the default folder
    assert numbers["files"]["dir"] == str(out)
    for name in PLOTS:
        data = (out / name).read_bytes()
        img = Image.open(io.BytesIO(data))
        img.load()
        assert img.format == "PNG" and img.width > 400 and img.height > 300
        # a plot with content, not a blank canvas
        assert len(data) > 8000
        assert len(img.convert("L").getcolors(maxcolors=1 << 16) or []) > 20
    page = (out / "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == len(PLOTS)
    assert {base64.b64decode(e) for e in embedded} == {(out / n).read_bytes() for n in PLOTS}
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing to fetch
    assert json.loads((out / "report.json").read_text())["plan"] == numbers["plan"]
    (artifacts_dir / "plan-report.html").write_text(page)


def test_report_numbers_match_the_plan(cat_archive, cli, tmp_path):
    s = cli.json("plan", "--archive", cat_archive.root, "--budget", "10GB")
    n = cli.json("report", "--archive", cat_archive.root, "--out", tmp_path / "r")
    assert n["files"]["dir"] == str(tmp_path / "r")
    assert n["plan"]["files"] == s["selected"]["files"]
    assert n["plan"]["bytes"] == s["selected"]["bytes"]
    assert abs(n["plan"]["coverage_pct"] - s["selected"]["coverage_pct"]) < 1e-6
    curve = n["coverage_curve"]
    assert curve[-1]["files"] == s["selected"]["files"]
    # coverage grows along the plan order, with diminishing returns per byte
    cov = [p["coverage_pct"] for p in curve]
    assert cov == sorted(cov)
    assert sum(r["tracks"] for r in n["popularity_histogram"]) == 20000
    assert sum(r["files"] for r in n["popularity_histogram"]) == s["selected"]["files"]
    isrc_tracks = sum(r["tracks"] for r in n["tracks_per_isrc"])
    assert isrc_tracks + n["catalogue"]["tracks_without_isrc"] == 20000
    assert n["tracks_per_isrc"][0]["tracks_per_isrc"] == 1
    # same plan, same report: byte for byte
    first = {f.name: f.read_bytes() for f in (tmp_path / "r").iterdir()}
    cli("report", "--archive", cat_archive.root, "--out", tmp_path / "r")
    assert {f.name: f.read_bytes() for f in (tmp_path / "r").iterdir()} == first


def test_plan_json_shape(cat_archive, cli):
    s = cli.json("plan", "--archive", cat_archive.root, "--coverage", "99.6")
    assert set(s) >= {
        "model",
        "mode",
        "budget_bytes",
        "coverage_target",
        "batch_size",
        "catalogue",
        "selected",
        "tiers",
        "batches",
        "excluded",
        "excluded_released",
        "changes",
    }
    assert s["model"]["kind"] == "popularity_curve"
    assert s["mode"] == "coverage" and s["coverage_target"] == 99.6
    assert set(s["selected"]) == {"files", "bytes", "listens", "coverage_pct", "files_pct"}
    assert [t["tier"] for t in s["tiers"]] == ["keep", "opus75"]
    assert set(s["changes"]) == {
        "tracks",
        "by_transition",
        "moved_batch",
        "sample",
        "table",
        "first_plan",
    }


def test_plan_prints_the_model_it_used(cat_archive, cli):
    text = cli("plan", "--archive", cat_archive.root, "--budget", "1TiB")
    assert "popularity_curve" in text and "listens covered" in text
    query(cat_archive, "UPDATE tracks SET streams = 1000")
    assert "streams" in cli("plan", "--archive", cat_archive.root)


def test_plan_rejects_bad_arguments_clearly(cat_archive, cli):
    cli("plan", "--archive", cat_archive.root, "--budget", "lots", ok=False)
    assert cli.last.exit_code == 1 and "invalid size 'lots'" in cli.last.output
    cli("plan", "--archive", cat_archive.root, "--budget", "1TB", "--coverage", "90", ok=False)
    assert "not both" in cli.last.output


def test_plan_without_a_catalogue_says_so(archive, cli):
    cli("plan", "--archive", archive.root, ok=False)
    assert cli.last.exit_code == 1 and "run `musark ingest` first" in cli.last.output
    assert not archive.catalog_db.exists()


def test_report_before_any_plan_still_draws_the_catalogue(cat_archive, cli, tmp_path):
    n = cli.json("report", "--archive", cat_archive.root, "--out", tmp_path / "r")
    assert n["plan"]["files"] == 0 and n["coverage_curve"] == []
    assert n["catalogue"]["tracks"] == 20000
    for name in PLOTS:
        Image.open(tmp_path / "r" / name).load()


def test_empty_catalogue_plans_and_reports_zeros(archive, cli, tmp_path):
    connect(archive.catalog_db).close()
    s = cli.json("plan", "--archive", archive.root, "--coverage", "50")
    assert s["selected"]["files"] == 0 and s["catalogue"]["tracks"] == 0
    n = cli.json("report", "--archive", archive.root, "--out", tmp_path / "r")
    assert n["plan"]["files"] == 0 and (tmp_path / "r" / "report.html").exists()
