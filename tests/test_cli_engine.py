"""``cluster-review run --engine local|dask --scheduler ADDRESS --workers N``: checked up front
(one ``error:`` line, exit 2). The run itself on a cluster: tests/test_engine_dask.py
(it shares that module's cluster)."""
from __future__ import annotations

import pytest

from pipeline.cli.main import main
from pipeline.io.demo import DEMO_CLASSES, write_demo_folder

pytestmark = pytest.mark.timeout(120)  # a Dask client that hangs fails here instead of stalling the suite


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engine_cli") / "demo"
    write_demo_folder(folder, n_per_class=6, seed=2, size=32, classes=[c for c, _ in DEMO_CLASSES[:4]])
    return folder  # 24 images in 4 classes


def one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("extra, needles", [
    (["--scheduler", "tcp://127.0.0.1:8786"], ["--scheduler needs --engine dask", "cluster-review run --help"]),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], ["--workers sizes a local cluster"]),
    (["--engine", "dask", "--scheduler", "my-laptop"], ["--scheduler", "tcp://HOST:PORT", "'my-laptop'"]),
    (["--engine", "dask", "--scheduler", "tcp://h:99999"], ["--scheduler", "port from 1 to 65535"]),
    (["--engine", "ray"], ["--engine", "invalid choice: 'ray'"]),
    (["--workers", "0"], ["--workers", "from 1 to 256", "got 0"]),
])
def test_engine_arguments_are_checked_before_any_work(demo, tmp_path, capsys, extra, needles):
    with pytest.raises(SystemExit) as stop:
        main(["run", str(demo), "--out", str(tmp_path / "out"), *extra])
    assert stop.value.code == 2
    one_line_error(capsys, *needles)
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_one_line(demo, tmp_path, capsys):
    code = main(["run", str(demo), "--out", str(tmp_path / "out"), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    one_line_error(capsys, "cannot reach the Dask scheduler at tcp://127.0.0.1:1")
