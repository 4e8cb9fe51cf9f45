"""Every model a promotion replaces is kept beside the model file, so that any promotion can be undone.

A promotion renames a new file over the served one, and before this module the old model was gone: undoing a bad
promotion meant retraining. Now the file a promotion (or a rollback) replaces is first copied, byte for byte, into
``<model stem>.versions/<variant>.json`` next to it. The copy is the whole model file, so it keeps what the model was
trained on (``training_data``) and how it was judged (``metrics``, with ``champion_challenger`` for a promoted
challenger), and its checksum still proves it intact. Its name is the model's variant (``<encoding>-<12 hex of the
file's checksum>``), which is also what the endpoint reports and what every stored recommendation records, so a
version in the list can be matched with its acceptance rate in the choices store.

A rollback writes a kept file's bytes over the served file with the same atomic rename a promotion uses
(:func:`mysfits.files.write_bytes_atomic`), so the running endpoint reloads it as it reloads a promotion, and no
reader ever sees half a model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mysfits.files import write_bytes_atomic
from mysfits.model.artifact import ArtifactError, ModelArtifact, load_model, read_model_bytes, variant_name

SUFFIX = ".versions"


class VersionError(ValueError):
    """A version that is not kept, is ambiguous, or cannot be restored; nothing was changed."""


@dataclass(frozen=True)
class Version:
    name: str
    """The model's variant, ``<encoding>-<12 hex>``: the model version stored with each recommendation."""
    path: Path
    model: ModelArtifact
    serving: bool

    def held_out_scores(self) -> dict[str, float | int | None]:
        """What the model was judged on when it was let in: the held-out choices' taste accuracy for a promoted
        challenger, else the test split's plain accuracy from training."""
        verdict = self.model.metrics.get("champion_challenger")
        if isinstance(verdict, dict):
            return {
                "held_out_choices": verdict.get("held_out_choices"),
                "taste_accuracy": verdict.get("challenger_taste_accuracy"),
                "champion_taste_accuracy": verdict.get("champion_taste_accuracy"),
            }
        return {"test_rows": self.model.metrics.get("test_rows"), "test_accuracy": self.model.metrics.get("accuracy")}


def versions_dir(model_path: str | os.PathLike) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + SUFFIX)


def keep(model_path: str | os.PathLike) -> Path | None:
    """Copy the served model into the versions folder (once per version) before something replaces it.

    Returns the kept file, or None when there is no model file yet. A served file that does not load is not kept:
    it could not be rolled back to, and refusing here would stop a promotion that replaces a broken model.
    """
    model_path = Path(model_path)
    try:
        raw = read_model_bytes(model_path)
        model = load_model(model_path)
    except (FileNotFoundError, ArtifactError):
        return None
    if _checksum(raw) != model.checksum:
        return None  # replaced between the two reads: whoever replaced it keeps what they replaced
    target = versions_dir(model_path) / f"{variant_name(model)}.json"
    if not target.exists():
        write_bytes_atomic(target, raw)
    return target


def list_versions(model_path: str | os.PathLike) -> tuple[list[Version], list[str]]:
    """The served model first, then every kept one, the most recently replaced first; and one line per kept file
    that does not load (damaged or foreign files are named, never silently skipped)."""
    model_path = Path(model_path)
    serving = load_model(model_path)
    serving_name = variant_name(serving)
    found = [Version(serving_name, model_path, serving, True)]
    problems = []
    kept = []
    folder = versions_dir(model_path)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            model = load_model(path)
        except ArtifactError as exc:
            problems.append(str(exc))
            continue
        name = variant_name(model)
        if name != serving_name:
            kept.append(Version(name, path, model, False))
    # By when it was kept (replaced), not when it was trained: after a rollback the model just replaced comes first.
    kept.sort(key=lambda version: (version.path.stat().st_mtime_ns, version.name), reverse=True)
    return found + kept, problems


def find(model_path: str | os.PathLike, version: str) -> Version:
    """The kept or served version named ``version``: its whole variant name, or an unambiguous start of it (with or
    without the encoding)."""
    versions, _problems = list_versions(model_path)
    wanted = version.strip()
    if not wanted:
        raise VersionError("the version is empty; name one from `mysfits models list`")
    exact = [v for v in versions if v.name == wanted]
    # A part of a name looks among the kept versions only: the served one is never a rollback's target.
    matches = exact or [
        v for v in versions if not v.serving and (v.name.startswith(wanted) or v.name.split("-")[-1].startswith(wanted))
    ]
    names = ", ".join(v.name for v in versions)
    if not matches:
        raise VersionError(f"no kept version {wanted!r} for {model_path}; the versions are: {names}")
    if len(matches) > 1:
        raise VersionError(
            f"{wanted!r} names {len(matches)} versions ({', '.join(v.name for v in matches)}); give more of it"
        )
    return matches[0]


def rollback(model_path: str | os.PathLike, version: str) -> tuple[Version, Version]:
    """Serve a kept version again; returns ``(replaced, restored)``. The replaced model is kept first, so a
    rollback can itself be rolled back."""
    model_path = Path(model_path)
    target = find(model_path, version)
    if target.serving:
        raise VersionError(f"{target.name} is already the model {model_path} serves; nothing to roll back")
    raw = read_model_bytes(target.path)
    restored = load_model(target.path)  # proves the kept bytes intact before they go anywhere near the served file
    if _checksum(raw) != restored.checksum:
        raise VersionError(f"{target.path} changed while being read; run the rollback again")
    served = list_versions(model_path)[0][0]
    keep(model_path)
    write_bytes_atomic(model_path, raw)
    return served, Version(target.name, model_path, restored, True)


def _checksum(raw: bytes) -> str | None:
    try:
        return json.loads(raw).get("checksum")
    except (ValueError, AttributeError):
        return None
