"""The Lambda base image SAM runs the function in, made from Debian packages because no registry is reachable.

SAM looks for ``public.ecr.aws/lambda/python:3.13-rapid-<arch>`` and, when that tag exists, uses it instead of
pulling AWS's image and adding its emulator. So the image made here carries what SAM would have added (the runtime
interface emulator from SAM's own wheel, at /var/rapid) and what AWS's image provides (Python 3.13, awslambdaric
and boto3 under /var/runtime, a /var/runtime/bootstrap).

Its userland is this machine's architecture and is tagged with both architectures' names: the function is pure
Python, so the arm64 function runs natively instead of under qemu (measured: the first arm64 cold start under
qemu-user-static took 11.7 s on two cores).

Building takes about a minute (debootstrap dominates), so the root filesystem is kept as a tarball under
~/.cache/mysfits, named by a hash of everything that goes into it; a changed recipe, pin or SAM version builds a new
one, and a fresh dockerd only has to import the tarball.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUITE = "trixie"  # the Debian release whose python3 is 3.13, the function's runtime
PACKAGES = ("python3", "ca-certificates")
RUNTIME_PINS = ("awslambdaric==4.2.2", "boto3==1.43.108")
IMAGE_REPOSITORY = "public.ecr.aws/lambda/python"
IMAGE_TAGS = ("3.13-rapid-arm64", "3.13-rapid-x86_64")
RECIPE_LABEL = "mysfits.sam-local.recipe"
DEFAULT_CACHE = Path.home() / ".cache" / "mysfits" / "sam-local"
DEFAULT_MIRROR = "http://deb.debian.org/debian"

BOOTSTRAP = """#!/bin/sh
# What Lambda's python3.13 runtime does at start: the function's code first on the path, then the runtime's SDK.
if [ -z "$_HANDLER" ]; then echo "bootstrap: _HANDLER is not set" >&2; exit 64; fi
export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/var/runtime"
exec /usr/bin/python3 -m awslambdaric "$_HANDLER"
"""
IMAGE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV TZ=:UTC",
    "ENV LAMBDA_TASK_ROOT=/var/task",
    "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
    "WORKDIR /var/task",
    'ENTRYPOINT ["/var/rapid/aws-lambda-rie"]',
)
TRIMMED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists")


class BaseImageError(RuntimeError):
    """The image could not be built or imported; the message names the step and its output."""


@dataclass(frozen=True)
class BaseImage:
    recipe: str
    tarball: Path
    tags: tuple[str, ...]
    built: bool  # the root filesystem was built now (not found in the cache)
    imported: bool  # the tarball was imported into dockerd now (not already there)
    seconds: float


def emulator() -> Path:
    """SAM's own runtime interface emulator for this machine, the file SAM itself would add to the image."""
    import samcli.local.docker.lambda_image as lambda_image

    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    if arch is None:
        raise BaseImageError(f"no runtime interface emulator for this machine's architecture ({platform.machine()})")
    path = Path(lambda_image.__file__).resolve().parent.parent / "rapid" / f"aws-lambda-rie-{arch}"
    if not path.is_file():
        raise BaseImageError(f"SAM CLI no longer ships {path}; the base image recipe needs updating")
    return path


def recipe_key() -> str:
    """A hash of everything that decides the image's content; the image and tarball are named by it."""
    digest = hashlib.sha256()
    for part in (SUITE, *PACKAGES, *RUNTIME_PINS, BOOTSTRAP, *IMAGE_CHANGES, *TRIMMED, platform.machine()):
        digest.update(part.encode() + b"\0")
    digest.update(inspect.getsource(_build_rootfs).encode())
    digest.update(hashlib.sha256(emulator().read_bytes()).digest())
    return digest.hexdigest()[:16]


def debian_mirror() -> str:
    """The Debian mirror apt already uses here (MYSFITS_DEBIAN_MIRROR overrides it), so no new host is contacted."""
    chosen = os.environ.get("MYSFITS_DEBIAN_MIRROR")
    if chosen:
        return chosen
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if not source.is_file():
            continue
        text = source.read_text(errors="replace")
        for match in re.finditer(r"^\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(\S+)", text, re.MULTILINE):
            uri = match.group(1)
            if "security" not in uri and re.search(r"/debian/?$", uri):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _run(step: str, command: list[str], **kwargs) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603 - argv list, no shell
    if done.returncode != 0:
        raise BaseImageError(
            f"{step} failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


def _build_rootfs(root: Path) -> None:
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise BaseImageError("debootstrap is not installed; `make docker` apt-installs it (needs root)")
    if os.geteuid() != 0:
        raise BaseImageError("building the base image needs root (debootstrap and chroot); run as root")
    include = ",".join(PACKAGES)
    _run("debootstrap", [debootstrap, "--variant=minbase", f"--include={include}", SUITE, str(root), debian_mirror()])
    runtime = root / "var" / "runtime"
    arch = "x86_64" if platform.machine() in ("x86_64", "amd64") else "aarch64"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    pip += ["--target", str(runtime), "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.13"]
    pip += ["--platform", f"manylinux2014_{arch}", *RUNTIME_PINS]
    _run("installing the runtime's packages", pip)
    bootstrap = runtime / "bootstrap"
    bootstrap.write_text(BOOTSTRAP)
    bootstrap.chmod(0o755)
    rapid = root / "var" / "rapid"
    rapid.mkdir(parents=True, exist_ok=True)
    shutil.copy2(emulator(), rapid / "aws-lambda-rie")
    (rapid / "aws-lambda-rie").chmod(0o755)
    (root / "var" / "task").mkdir(parents=True, exist_ok=True)
    # Byte-compile the runtime with the image's own python3, so cold starts do not pay for it.
    _run("compiling the runtime", ["chroot", str(root), "python3", "-m", "compileall", "-q", "/var/runtime"])
    for path in TRIMMED:
        shutil.rmtree(root / path, ignore_errors=True)


def _image_recipe(client, tag: str) -> str | None:
    import docker

    try:
        return client.images.get(tag).labels.get(RECIPE_LABEL)
    except docker.errors.ImageNotFound:
        return None


def ensure(client, cache: Path = DEFAULT_CACHE, log=print) -> BaseImage:
    """Make sure dockerd has the image of the current recipe: reuse it, import the cached tarball, or build both."""
    started = time.monotonic()
    key = recipe_key()
    tags = tuple(f"{IMAGE_REPOSITORY}:{tag}" for tag in IMAGE_TAGS)
    tarball = cache / f"rootfs-{key}.tar"
    if all(_image_recipe(client, tag) == key for tag in tags):
        return BaseImage(key, tarball, tags, False, False, time.monotonic() - started)
    built = False
    if not tarball.is_file():
        log(f"building the Lambda base image's root filesystem (recipe {key}; about a minute, cached in {cache})")
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache, prefix="build-") as work:
            root = Path(work) / "root"
            _build_rootfs(root)
            partial = Path(work) / "rootfs.tar"
            _run("packing the root filesystem", ["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."])
            partial.replace(tarball)
        built = True
        for old in cache.glob("rootfs-*.tar"):
            if old != tarball:
                old.unlink(missing_ok=True)
    log(f"importing {tarball.name} into dockerd as {', '.join(tags)}")
    changes = [*IMAGE_CHANGES, f"LABEL {RECIPE_LABEL}={key}"]
    # From the file, not a stream: docker-py sends a stream chunked, and dockerd 20.10 refuses that for imports.
    client.api.import_image_from_file(str(tarball), repository=IMAGE_REPOSITORY, tag=IMAGE_TAGS[0], changes=changes)
    source = client.images.get(tags[0])
    for tag in IMAGE_TAGS[1:]:
        source.tag(IMAGE_REPOSITORY, tag)
    if _image_recipe(client, tags[0]) != key:
        raise BaseImageError(f"dockerd imported {tarball} but {tags[0]} does not carry recipe {key}")
    return BaseImage(key, tarball, tags, built, True, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build or reuse the Lambda base image for `sam local`")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the root filesystem is cached")
    args = parser.parse_args(argv)
    from mysfits.local.sam_local import engine

    with engine.engine(args.cache / "dockerd.log"):
        image = ensure(engine.client(), args.cache)
    print(f"recipe {image.recipe}: built={image.built} imported={image.imported} in {image.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
