"""The notebook runs end to end in local mode (a real kernel, a real local endpoint), and is committed clean."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "mysfit_recommendations_knn.ipynb"


def test_committed_notebook_has_no_outputs_or_execution_counts():
    raw = json.loads(NOTEBOOK.read_text())
    code_cells = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert code_cells
    for index, cell in enumerate(code_cells):
        assert cell["outputs"] == [], f"code cell {index} has saved outputs"
        assert cell["execution_count"] is None, f"code cell {index} has an execution count"
    nbformat.validate(nbformat.reads(NOTEBOOK.read_text(), as_version=4))


def test_notebook_has_one_parameters_cell_choosing_the_mode():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert 'MODE = "local"' in tagged[0].source


def test_notebook_calls_the_package_rather_than_copying_it():
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code")
    assert "def " not in source and "class " not in source, "logic belongs in the package, not the notebook"
    for call in ("training.train_model", "sagemaker_endpoint.deploy", "evaluate_endpoint", "write_confusion_png",
                 "cleanup.find_project_resources", "serve_in_thread"):  # fmt: skip
        assert call in source


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "encoding"),
    [("", "ordinal"), ('PREFERENCES = "categorical"\nENCODING = "one-hot"\n', "one-hot")],
    ids=["ordinal", "one-hot"],
)
def test_notebook_runs_end_to_end_in_local_mode(tmp_path, monkeypatch, extra, encoding):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    position = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    # Like papermill: a cell after the parameters cell overrides them (small data so it takes seconds).
    overrides = nbformat.v4.new_code_cell(
        'MODE = "local"\nROWS = 6_000\nSAMPLE_SIZE = 4_000\n'
        f"WORK_DIR = {str(tmp_path / 'run')!r}\nSAMCONFIG = {str(tmp_path / 'samconfig.toml')!r}\n{extra}"
    )
    nb.cells.insert(position + 1, overrides)
    # A first cell stops the run unless the kernel runs the expected Python: MYSFITS_KERNEL_PYTHON (make test's 3.10
    # step sets it, a notebook instance's conda_python3 kernel being 3.10), else the Python running this test.
    kernel_python = os.environ.get("MYSFITS_KERNEL_PYTHON", f"{sys.version_info.major}.{sys.version_info.minor}")
    check = (
        "import sys\n"
        "running = f'{sys.version_info.major}.{sys.version_info.minor}'\n"
        f"assert running == {kernel_python!r}, 'the kernel runs Python ' + sys.version + ', not {kernel_python}'\n"
        "print('kernel python', running, 'at', sys.executable)"
    )
    nb.cells.insert(0, nbformat.v4.new_code_cell(check))
    # The kernel must import this checkout's package, whatever is installed in the virtualenv.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
    )
    assert f"kernel python {kernel_python} at " in text
    assert "accuracy on 600 test rows" in text
    assert "-> " in text and "local endpoint stopped" in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1, "the confusion matrix is shown"
    assert (tmp_path / "run" / "mysfits-knn.json").exists()
    written = (tmp_path / "samconfig.toml").read_text()
    assert "SageMakerEndpointName=mysfits-knn" in written and f"ModelEncoding={encoding}" in written
    assert f"encoding {encoding}, k=10" in text
