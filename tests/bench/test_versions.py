"""bench/versions.py: the versions table keyed by L4T release (read by the image builds and sanity)."""
import pytest

from bench import versions

TABLE = versions.load_table()
KEY = TABLE["default_l4t"]
NANO_RELEASE = "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64\n"


def test_l4t_from_the_nano_release_file(monkeypatch, tmp_path):
    release = tmp_path / "nv_tegra_release"
    release.write_text(NANO_RELEASE)
    monkeypatch.setattr(versions, "TEGRA_RELEASE", str(release))
    monkeypatch.delenv("L4T_VERSION", raising=False)
    assert versions.l4t_key(TABLE) == "32.7"
    monkeypatch.setenv("L4T_VERSION", "35.3.1")
    with pytest.raises(versions.TableProblem, match="L4T 35.3.1 is not in versions.yml"):
        versions.l4t_key(TABLE)


def test_default_l4t_off_device(monkeypatch, tmp_path):
    monkeypatch.setattr(versions, "TEGRA_RELEASE", str(tmp_path / "absent"))
    monkeypatch.delenv("L4T_VERSION", raising=False)
    assert versions.l4t_key(TABLE) == TABLE["default_l4t"]
    assert not versions.on_jetson()


def test_missing_table_entry_names_it():
    with pytest.raises(versions.TableProblem, match="versions.yml has no 'pins.nothing'"):
        versions.lookup(TABLE["l4t"][KEY], "pins.nothing")
    assert versions.lookup({"a": {"b": None}}, "a.b") == ""


def test_an_installed_kit_reads_the_table_its_wheel_installed(tmp_path):
    site = tmp_path / "venv" / "lib" / "site-packages"   # ROOT of a kit installed from its wheel
    site.mkdir(parents=True)
    assert versions.table_path(str(site), str(tmp_path / "venv")) == str(site / "versions.yml")  # says what is missing
    share = tmp_path / "venv" / "share" / "nano-ocr-kit"
    share.mkdir(parents=True)
    (share / "versions.yml").write_text("default_l4t: '32.7'\n")
    assert versions.table_path(str(site), str(tmp_path / "venv")) == str(share / "versions.yml")
    assert versions.load_table(versions.table_path(str(site), str(tmp_path / "venv"))) == {"default_l4t": "32.7"}
    assert versions.VERSIONS == versions.table_path()  # here: the checkout's
