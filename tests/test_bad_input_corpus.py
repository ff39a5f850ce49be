"""~35 kinds of bad and odd input files (tests/bad_corpus.py) through discover, load, the CLI's
run / eval / suspects, a saved review session and both exports."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest

from bad_corpus import NON_UTF8_NAME, write_bad_corpus
from pipeline.cli.main import main
from pipeline.core.csvio import read_text
from pipeline.io.loader import load_images
from pipeline.io.sources import discover
from pipeline.io.walk import ALIAS_REASON, HIDDEN_REASON, LOOP_REASON, NOT_IMAGE_REASON, SAME_FILE_REASON
from pipeline.review.export import export_csv, export_tree, missing_images
from pipeline.review.session import ReviewSession

#: The corpus needs POSIX names (bytes, newlines), symbolic links and named pipes.
pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file names, links and pipes")

EXPECTED_REASON = {  # words each unreadable kind's reason must contain
    "zero bytes": "empty",
    "corrupt": "not an image",
    "truncated JPEG": "truncated",
    "text with image extension": "not an image",
    "decompression bomb": "decompression bomb",
    "dangling symlink": "broken symbolic link",
    "named pipe": "not a regular file",
    "unreadable (mode 000)": "permission denied",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_bad_corpus(tmp_path_factory.mktemp("bad") / "corpus")


def rows(path):
    return list(csv.DictReader(io.StringIO(read_text(path))))


def test_the_corpus_has_at_least_20_kinds(corpus):
    assert corpus.kinds >= 30
    assert len(corpus.unreadable) >= 7 and len(corpus.ignored) >= 3 and len(corpus.loops) >= 4


def test_discover_lists_each_real_file_once_and_reports_everything_left_out(corpus):
    found = discover(corpus.root)
    paths = [it.path for it in found.items]
    assert len(paths) == len(set(paths)) == corpus.n_good + len(corpus.readable) + len(corpus.unreadable)
    assert {str(p) for p in corpus.readable.values()} <= set(paths)
    # the symlink loop and the second link to a class do not double the set or add classes
    assert {it.label for it in found.items} == {p.name for p in corpus.root.iterdir()
                                                if p.is_dir() and not p.is_symlink() and p.name != "empty"}
    reasons = {s.path: s.reason for s in found.skipped}
    for kind, path in corpus.ignored.items():
        assert reasons[str(path)] == NOT_IMAGE_REASON, kind
    assert reasons[str(corpus.root / "loop")] == LOOP_REASON
    assert reasons[str(corpus.root / "14" / "up")] == LOOP_REASON
    assert reasons[str(corpus.root / "alias_of_14")] == ALIAS_REASON.format(other=str(corpus.root / "14"))
    assert reasons[str(corpus.root / "14" / "link_to_cmyk.jpg")] == SAME_FILE_REASON.format(
        other=str(corpus.root / "14" / "cmyk.jpg"))
    for kind, path in corpus.hidden.items():
        assert reasons[str(path)] == HIDDEN_REASON, kind
    for kind, path in corpus.silent.items():
        assert str(path) not in reasons and str(path) not in paths, kind


def test_load_images_decodes_the_oddities_and_skips_the_rest_with_reasons(corpus, tmp_path):
    for cache in (False, tmp_path / "cache", tmp_path / "cache"):  # cold, then the cache's index written and read
        image_set = load_images(corpus.root, size=24, cache_dir=cache)
        assert len(image_set) == corpus.n_good + len(corpus.readable)
        assert {str(p) for p in corpus.readable.values()} <= set(image_set.paths)
        reasons = {s.path: s.reason for s in image_set.skipped}
        for kind, path in corpus.unreadable.items():
            assert EXPECTED_REASON[kind] in reasons[str(path)], (kind, reasons.get(str(path)))
        assert all("Error" not in r and "Exception" not in r for r in reasons.values())  # no class names


def test_cli_run_eval_and_outputs_round_trip_every_name(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["run", str(corpus.root), "--out", str(out), "--preset", "hog-kmeans", "--k", "13", "--no-cache"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assigned = rows(out / "assignments.csv")
    assert len(assigned) == corpus.n_good + len(corpus.readable)
    assert all(os.path.isfile(r["path"]) for r in assigned)  # every path read back opens its file
    names = {os.path.basename(r["path"]) for r in assigned}
    assert {NON_UTF8_NAME, "new\nline.png", "comma,name.png", 'quote"name\'s.png', "semi;colon\ttab.png"} <= names
    # the raw bytes of the Latin-1 name are in the file, not a replacement character
    assert b"bad\xe9.png" in (out / "assignments.csv").read_bytes()
    skipped = {r["path"]: r["reason"] for r in rows(out / "skipped.csv")}
    left_out = corpus.left_out
    assert {str(p) for p in left_out.values()} == set(skipped)
    # the written CSV is a valid source again: same files, same labels, nothing missing
    again = discover(out / "assignments.csv")
    assert again.skipped == [] and sorted((it.path, it.label) for it in again.items) == sorted(
        (r["path"], r["label"]) for r in assigned)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["k"] == 13 and metrics["n_clusters"] == 13
    assert metrics["n_images"] == len(assigned) and metrics["n_skipped"] == len(skipped)
    # a message naming a non-UTF-8 path is one printable line
    missing = os.path.join(str(corpus.root), os.fsdecode(b"gone\xe9"))
    assert main(["run", missing, "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "gone\\xe9" in err and err.count("\n") == 1

    rc = main(["eval", str(out / "assignments.csv")])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert f"items {len(assigned)}" in printed.out


def test_cli_suspects_writes_every_name(corpus, tmp_path, capsys):
    out = tmp_path / "s" / "suspects.csv"
    rc = main(["suspects", str(corpus.root), "--out", str(out), "--preset", "hog-kmeans", "--no-cache",
               "--top", "0"])
    assert rc == 0, capsys.readouterr().err
    assert rows(out) == []  # --top 0: the header only
    rc = main(["suspects", str(corpus.root), "--out", str(out), "--preset", "hog-kmeans", "--no-cache"])
    assert rc == 0, capsys.readouterr().err
    ranked = rows(out)
    labelled = corpus.n_good + len(corpus.readable)  # everything under a class folder
    assert len(ranked) == labelled
    assert any(os.path.basename(r["path"]) == NON_UTF8_NAME for r in ranked)
    assert all(os.path.isfile(r["path"]) for r in ranked)
    assert len({os.path.realpath(r["path"]) for r in ranked}) == len(ranked)  # no image twice (loop, links)
    pairs = rows(out.parent / "suspects_duplicate_conflicts.csv")
    assert all(os.path.realpath(p["path_a"]) != os.path.realpath(p["path_b"]) for p in pairs)


@pytest.fixture(scope="module")
def session(corpus):
    image_set = load_images(corpus.root, size=16, cache_dir=False)
    labels = image_set.labels
    return ReviewSession.from_result(str(corpus.root), {}, image_set.paths, labels,
                                     [i % 5 for i in range(len(image_set))])


def test_session_file_keeps_every_name(session, tmp_path):
    path = tmp_path / "review.json"
    session.save(path)
    again = ReviewSession.load(path)
    assert again.paths == session.paths and again.given_labels == session.given_labels


def test_exports_keep_every_name(session, tmp_path):
    n = export_csv(session, tmp_path / "labels.csv", None)
    exported = rows(tmp_path / "labels.csv")
    assert n == len(exported) == len(session)
    assert [r["path"] for r in exported] == session.paths
    counts = export_tree(session, tmp_path / "tree", None)
    assert sum(counts.values()) == len(session)
    written = {name for _, _, files in os.walk(tmp_path / "tree") for name in files}
    assert {NON_UTF8_NAME, "new\nline.png"} <= written
    assert missing_images(session) == []
    assert sorted(os.listdir(tmp_path)) == ["labels.csv", "tree"]  # no staging folder left


def _latin1_class_session(tmp_path):
    label = os.fsdecode(b"caf\xe9")  # a class folder whose name is Latin-1
    paths = [os.path.join(str(tmp_path), label, f"{i}.png") for i in range(3)]
    return ReviewSession.from_result(str(tmp_path), {}, paths, [label] * 3, [0, 0, 1]), label


def test_a_class_named_after_a_non_utf8_folder_is_journaled_and_saved(tmp_path):
    from pipeline.review.edit_codec import decode_edit, edit_to_dict, encode_edit

    s, label = _latin1_class_session(tmp_path)
    edit = s.name(1, label)
    assert edit_to_dict(decode_edit(encode_edit(edit))) == edit_to_dict(edit)  # the undo journal's codec
    s.apply(edit)
    s.save(tmp_path / "review.json")
    again = ReviewSession.load(tmp_path / "review.json")
    assert again.given_labels == [label] * 3 and again.cluster_names == {1: label}


def test_a_non_utf8_class_name_in_the_session_database(tmp_path):
    from pipeline.review.session_db import SessionDB

    s, label = _latin1_class_session(tmp_path)
    s.apply(s.name(1, label))
    SessionDB.create(tmp_path / "review.db", s).close()
    with SessionDB.open(tmp_path / "review.db", readonly=True) as db:
        assert db.load(ReviewSession).cluster_names == {1: label}
