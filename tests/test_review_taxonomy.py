"""Taxonomy: the GTSRB default, CSV loading with its error messages, and search."""
from pathlib import Path

import pytest
from PIL import Image

from pipeline.review.taxonomy import GTSRB_CLASSES_CSV, Taxonomy, TaxonomyClass, TaxonomyError


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (200, 0, 0)).save(path)


def test_gtsrb_default_has_43_named_classes_without_icons():
    tax = Taxonomy.gtsrb()
    assert len(tax) == 43
    assert tax.ids() == [str(i) for i in range(43)]
    assert tax.by_id("14").name == "Stop"
    assert tax.by_id("0").name == "Speed limit (20km/h)"
    assert tax.by_id("42").name == "End of no passing by vehicles over 3.5 metric tons"
    assert all(c.icon is None for c in tax)
    assert GTSRB_CLASSES_CSV.is_file()


@pytest.mark.parametrize("use_meta_folder_itself", [False, True])
def test_gtsrb_icons_from_kaggle_meta_folder(tmp_path, use_meta_folder_itself):
    for cid in (0, 14):
        _png(tmp_path / "Meta" / f"{cid}.png")
    tax = Taxonomy.gtsrb(tmp_path / "Meta" if use_meta_folder_itself else tmp_path)
    assert tax.by_id("14").icon == str(tmp_path / "Meta" / "14.png")
    assert tax.by_id("0").icon == str(tmp_path / "Meta" / "0.png")
    assert tax.by_id("1").icon is None
    assert Taxonomy.gtsrb(tmp_path / "nothing-here").by_id("14").icon is None


def test_gtsrb_icons_from_shared_data(gtsrb_dir):
    tax = Taxonomy.gtsrb(gtsrb_dir)
    assert all(c.icon is not None and Path(c.icon).is_file() for c in tax)


def test_load_csv_with_header_and_relative_icons(tmp_path):
    _png(tmp_path / "icons" / "cat.png")
    f = tmp_path / "classes.csv"
    f.write_text("id,name,icon\ncat,Cat,icons/cat.png\ndog,Dog,\n\n# comment\nbird,\"Bird, small\"\n")
    tax = Taxonomy.load_csv(f)
    assert tax.classes == [
        TaxonomyClass("cat", "Cat", str(tmp_path / "icons" / "cat.png")),
        TaxonomyClass("dog", "Dog", None),
        TaxonomyClass("bird", "Bird, small", None),
    ]
    assert "dog" in tax and "fish" not in tax
    assert tax.by_id("fish") is None and tax.by_id(None) is None
    assert tax.name_of("fish") == "fish" and tax.name_of(None) == "" and tax.name_of("cat") == "Cat"


def test_load_csv_without_header(tmp_path):
    f = tmp_path / "classes.csv"
    f.write_text("1,One\n2,Two\n")
    assert [c.id for c in Taxonomy.load_csv(f)] == ["1", "2"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "no classes found"),
        ("id,name\n", "no classes found"),
        ("a,A\na,Again\n", "line 2: duplicate class id 'a' (first on line 1)"),
        ("a,A\nb\n", "line 2: expected 2 or 3 columns"),
        ("a,A,x.png,extra\n", "line 1: expected 2 or 3 columns"),
        (",Nameless\n", "line 1: empty class id"),
        ("a,A,missing.png\n", "line 1: icon file not found"),
    ],
)
def test_load_csv_errors_name_line_and_reason(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(TaxonomyError, match=None) as info:
        Taxonomy.load_csv(f)
    assert message in str(info.value)
    assert str(f) in str(info.value)


def test_load_csv_missing_and_binary_files(tmp_path):
    with pytest.raises(TaxonomyError, match="cannot read taxonomy file"):
        Taxonomy.load_csv(tmp_path / "absent.csv")
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(TaxonomyError, match="not a UTF-8 text file|NUL"):
        Taxonomy.load_csv(binary)


def test_search_is_case_insensitive_on_id_and_name_and_ranked():
    tax = Taxonomy.gtsrb()
    assert [c.id for c in tax.search("STOP")] == ["14"]
    speed = tax.search("speed limit")
    assert {c.id for c in speed} == {"0", "1", "2", "3", "4", "5", "6", "7", "8"}
    # names starting with the text come before names merely containing it
    assert [c.id for c in speed] == ["0", "1", "2", "3", "4", "5", "7", "8", "6"]
    ids = [c.id for c in tax.search("1")]
    assert ids[0] == "1"  # exact id first
    assert "10" in ids and "41" in ids
    assert tax.search("") == tax.classes
    assert tax.search("zebra") == []


def test_duplicate_ids_rejected_in_constructor():
    with pytest.raises(TaxonomyError, match="duplicate"):
        Taxonomy([TaxonomyClass("a", "A"), TaxonomyClass("a", "B")])
