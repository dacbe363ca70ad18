"""Export settings are checked before they are saved: a LUT that is not a LUT is refused (the project keeps working),
and a bad value names the flag the user typed and what it allows — every problem at once."""
import json

from tests.cli_helpers import make_image, run_cli, run_json


def _project(tmp_path):
    proj = tmp_path / "p"
    run_json("project", "new", proj)
    run_json("project", "add-scene", proj, "-p", "x", "--duration", "1")
    return proj


def test_a_png_given_as_lut_is_refused_and_not_saved(tmp_path):
    proj = _project(tmp_path)
    before = (proj / "project.json").read_bytes()
    logo = make_image(tmp_path / "logo.png")
    proc = run_cli("project", "export", proj, "--lut", logo)
    assert proc.returncode == 2 and "--lut" in proc.stderr and ".cube" in proc.stderr
    assert (proj / "project.json").read_bytes() == before
    assert not any((proj / "references").glob("logo*"))
    cube = tmp_path / "broken.cube"
    cube.write_text("LUT_3D_SIZE 2\n0 0 0\n1 1 1\n")
    proc = run_cli("project", "export", proj, "--lut", cube)
    assert proc.returncode == 2 and "2 rows; a 2-point LUT has 8" in proc.stderr


def test_bad_values_name_each_flag(tmp_path):
    proj = _project(tmp_path)
    proc = run_cli("project", "export", proj, "--music-volume", "9", "--fade-in", "-3", "--json")
    assert proc.returncode == 2
    err = json.loads(proc.stdout)["error"]
    assert "--music-volume" in err and "4" in err and "--fade-in" in err
