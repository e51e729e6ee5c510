"""What a job's image names: a framework in script mode, a built-in algorithm, a local image.

SageMaker names images by ECR URI (``683313688378.dkr.ecr.us-east-1.amazonaws.com/
sagemaker-xgboost:1.7-1``, as ``sagemaker.image_uris.retrieve`` returns them); Shipyard
recognises the repository name and runs the equivalent on this machine. Short names
(``xgboost``, ``sklearn``, ``pytorch``) work too, and so do local images registered with
``shipyard images add NAME DIR``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from shipyard.algorithms import catalog
from shipyard.errors import AwsError
from shipyard.jobs.spec import Image

#: ECR repository (or short name) -> framework run in script mode.
FRAMEWORKS = {
    "pytorch-training": "pytorch",
    "pytorch": "pytorch",
    "huggingface-pytorch-training": "pytorch",
    "sagemaker-scikit-learn": "sklearn",
    "scikit-learn": "sklearn",
    "sklearn": "sklearn",
    "tensorflow-training": "tensorflow",
    "tensorflow": "tensorflow",
    "mxnet-training": "mxnet",
    "sagemaker-xgboost": "xgboost",
    "sagemaker-base-python": "python",
    "python": "python",
    # The inference images of the same frameworks (CreateModel).
    "pytorch-inference": "pytorch",
    "huggingface-pytorch-inference": "pytorch",
    "tensorflow-inference": "tensorflow",
    "mxnet-inference": "mxnet",
}

#: Model Monitor's analyzer image (``sagemaker.image_uris.retrieve("model-monitor", region)``).
ANALYZER = "sagemaker-model-monitor-analyzer"

_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)(?:[:@].*)?$")


def repository(uri: str) -> str:
    """The repository part of an image URI or short name: ``sagemaker-xgboost`` of an
    ECR URI, ``xgboost`` of ``xgboost:1.7-1``."""
    match = _ECR.match(uri)
    if match:
        return match.group("repo").rsplit("/", 1)[-1]
    return uri.split("@", 1)[0].split(":", 1)[0]


async def resolve_training_image(
    algorithm: dict[str, Any], hyperparameters: dict[str, str], local_path: Callable[[str], Awaitable[str | None]]
) -> Image:
    """The image of a training job's ``AlgorithmSpecification``.

    A framework image with ``sagemaker_program`` (or a ``ContainerEntrypoint``) runs in script
    mode; ``sagemaker-xgboost`` without a program is the built-in XGBoost algorithm.
    """
    uri = algorithm.get("TrainingImage") or ""
    if not uri:
        name = algorithm.get("AlgorithmName") or ""
        raise AwsError(
            "ValidationException",
            f"Could not find algorithm {name!r}: Shipyard runs training images (TrainingImage); "
            "algorithm resources are not supported.",
        )
    if (path := await _local(uri, local_path)) is not None:
        return Image(uri=uri, kind="local", path=path)
    scripted = "sagemaker_program" in hyperparameters or bool(algorithm.get("ContainerEntrypoint"))
    if (image := _known_image(uri, scripted=scripted)) is not None:
        return image
    if algorithm.get("ContainerEntrypoint"):
        return Image(uri=uri, kind="command")
    raise _unknown(uri)


async def resolve_processing_image(
    app: dict[str, Any], local_path: Callable[[str], Awaitable[str | None]]
) -> Image:
    """The image of a processing job's ``AppSpecification``."""
    uri = app["ImageUri"]
    if (path := await _local(uri, local_path)) is not None:
        return Image(uri=uri, kind="local", path=path)
    repo = repository(uri)
    if repo in FRAMEWORKS:
        return Image(uri=uri, kind="script", framework=FRAMEWORKS[repo])
    if repo == ANALYZER:
        return Image(uri=uri, kind="analyzer")
    if app.get("ContainerEntrypoint"):
        return Image(uri=uri, kind="command")
    raise _unknown(uri)


async def resolve_serving_image(
    uri: str, environment: dict[str, str], local_path: Callable[[str], Awaitable[str | None]]
) -> Image:
    """The image of a model's container (``CreateModel``).

    A framework image serves in script mode (the inference toolkit's ``inference.py``);
    ``sagemaker-xgboost`` without ``SAGEMAKER_PROGRAM`` is the built-in XGBoost algorithm's
    server; a local image must hold a ``serve`` executable.
    """
    if (path := await _local(uri, local_path)) is not None:
        if not os.access(os.path.join(path, "serve"), os.X_OK):
            raise AwsError(
                "ValidationException",
                f"The local image {uri!r} ({path}) has no executable 'serve', so it cannot host a model.",
            )
        return Image(uri=uri, kind="local", path=path)
    if (image := _known_image(uri, scripted="SAGEMAKER_PROGRAM" in environment)) is not None:
        return image
    raise AwsError(
        "ValidationException",
        f"Image {uri!r} is neither a SageMaker framework image, a built-in algorithm nor a registered "
        "local image with a 'serve' executable (shipyard images add NAME DIR).",
    )


def _known_image(uri: str, *, scripted: bool) -> Image | None:
    """A framework image in script mode or a built-in algorithm, by the image's repository;
    None for any other image. A framework that is also a built-in algorithm
    (``sagemaker-xgboost``) is the algorithm unless ``scripted`` (a program is named)."""
    repo = repository(uri)
    builtin = catalog.by_repository().get(repo)
    if repo in FRAMEWORKS and (scripted or builtin is None):
        return Image(uri=uri, kind="script", framework=FRAMEWORKS[repo])
    if builtin is not None:
        return Image(uri=uri, kind="builtin", algorithm=builtin.module)
    if repo in catalog.NOT_AVAILABLE:
        raise AwsError(
            "ValidationException",
            f"The built-in algorithm {repo} is not available on Shipyard; `shipyard algorithms` lists those that are.",
        )
    return None


async def _local(uri: str, local_path: Callable[[str], Awaitable[str | None]]) -> str | None:
    """The directory of a registered local image named ``uri`` (with or without ``:latest``)."""
    for name in dict.fromkeys((uri, uri.removesuffix(":latest"))):
        if (path := await local_path(name)) is not None:
            return path
    return None


def _unknown(uri: str) -> AwsError:
    return AwsError(
        "ValidationException",
        f"Image {uri!r} is neither a SageMaker framework image, a built-in algorithm nor a registered "
        "local image (shipyard images add NAME DIR), and no ContainerEntrypoint says what to run.",
    )
