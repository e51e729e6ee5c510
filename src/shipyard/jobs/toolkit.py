"""A training job's ``/opt/ml`` tree and environment, as SageMaker's training toolkit makes them.

The config files under ``input/config/`` are what every SageMaker training container finds;
the ``SM_*`` variables are what the ``sagemaker-training`` toolkit adds in framework images
(script mode). JSON values have sorted keys, as the toolkit writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.jobs.spec import HostSpec

GROUP = "homogeneousCluster"
NETWORK_INTERFACE = "eth0"
DEFAULT_LOG_LEVEL = 20
#: Hyperparameters the toolkit consumes itself; other ``sagemaker_*`` ones are framework parameters.
TOOLKIT_HYPERPARAMETERS = {
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_region",
    "sagemaker_job_name",
    "sagemaker_container_log_level",
    "sagemaker_enable_cloudwatch_metrics",
}
FRAMEWORK_MODULES = {
    "pytorch": "sagemaker_pytorch_container.training:main",
    "tensorflow": "sagemaker_tensorflow_container.training:main",
    "sklearn": "sagemaker_sklearn_container.training:main",
    "xgboost": "sagemaker_xgboost_container.training:main",
    "mxnet": "sagemaker_mxnet_container.training:main",
    "huggingface": "sagemaker_huggingface_pytorch_training.training:main",
}


@dataclass(frozen=True)
class TrainingLayout:
    """The paths of a training job's tree under its ml root."""

    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    @property
    def intermediate_dir(self) -> Path:
        return self.root / "output" / "intermediate"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def code_dir(self) -> Path:
        return self.root / "code"

    def channel_dir(self, name: str) -> Path:
        return self.data_dir / name

    def create(self, channels: list[str]) -> None:
        for folder in (self.config_dir, self.model_dir, self.output_data_dir, self.intermediate_dir):
            folder.mkdir(parents=True, exist_ok=True)
        for name in channels:
            self.channel_dir(name).mkdir(parents=True, exist_ok=True)


def decode(value: Any) -> Any:
    """A hyperparameter's value: JSON-decoded when it is JSON, else the string itself."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def command_line_arguments(hyperparameters: dict[str, Any]) -> list[str]:
    """``--name value`` pairs in sorted order, values rendered as the toolkit does (``str``)."""
    arguments = []
    for name in sorted(hyperparameters):
        value = hyperparameters[name]
        if isinstance(value, dict):
            value = ",".join(f"{key}={item}" for key, item in sorted(value.items()))
        arguments += [f"--{name}" if len(name) > 1 else f"-{name}", str(value)]
    return arguments


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def resource_config(spec: HostSpec) -> dict[str, Any]:
    """``resourceconfig.json``."""
    instance_type = spec.resources.instance_type
    return {
        "current_host": spec.host,
        "current_instance_type": instance_type,
        "current_group_name": GROUP,
        "hosts": spec.hosts,
        "instance_groups": [{"instance_group_name": GROUP, "instance_type": instance_type, "hosts": spec.hosts}],
        "network_interface_name": NETWORK_INTERFACE,
    }


def input_data_config(request: dict[str, Any]) -> dict[str, Any]:
    """``inputdataconfig.json``: each channel's input mode, distribution and content type."""
    default_mode = (request.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File")
    config = {}
    for channel in request.get("InputDataConfig") or []:
        source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        entry = {
            "TrainingInputMode": channel.get("InputMode") or default_mode,
            "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        for optional in ("ContentType", "CompressionType"):
            if channel.get(optional):
                entry[optional] = channel[optional]
        config[channel["ChannelName"]] = entry
    return config


def write_configs(layout: TrainingLayout, spec: HostSpec) -> None:
    """Write ``hyperparameters.json``, ``resourceconfig.json``, ``inputdataconfig.json`` and
    ``trainingjobconfig.json`` (the request, with the job's name and ARN)."""
    request = spec.request
    hyperparameters = {name: str(value) for name, value in (request.get("HyperParameters") or {}).items()}
    job_config = {**request, "TrainingJobName": spec.job_name, "TrainingJobArn": spec.job_arn}
    files = {
        "hyperparameters.json": hyperparameters,
        "resourceconfig.json": resource_config(spec),
        "inputdataconfig.json": input_data_config(request),
        "trainingjobconfig.json": job_config,
    }
    for name, content in files.items():
        (layout.config_dir / name).write_text(json.dumps(content, indent=1, sort_keys=True))


def training_environment(layout: TrainingLayout, spec: HostSpec) -> dict[str, str]:
    """The ``SM_*`` variables of the training toolkit, ``SM_TRAINING_ENV`` included."""
    raw = spec.request.get("HyperParameters") or {}
    decoded = {name: decode(value) for name, value in raw.items()}
    hyperparameters = {name: value for name, value in decoded.items() if not name.startswith("sagemaker_")}
    framework = {name: value for name, value in decoded.items() if name.startswith("sagemaker_") and name not in TOOLKIT_HYPERPARAMETERS}
    program = str(decoded.get("sagemaker_program", ""))
    channels = sorted(input_data_config(spec.request))
    channel_dirs = {name: str(layout.channel_dir(name)) for name in channels}
    resources = resource_config(spec)
    training_env = {
        "additional_framework_parameters": framework,
        "channel_input_dirs": channel_dirs,
        "current_host": spec.host,
        "current_instance_group": GROUP,
        "current_instance_group_hosts": spec.hosts,
        "current_instance_type": spec.resources.instance_type,
        "distribution_hosts": [],
        "distribution_instance_groups": [],
        "framework_module": FRAMEWORK_MODULES.get(spec.image.framework, ""),
        "hosts": spec.hosts,
        "hyperparameters": hyperparameters,
        "input_config_dir": str(layout.config_dir),
        "input_data_config": input_data_config(spec.request),
        "input_dir": str(layout.input_dir),
        "instance_groups": [GROUP],
        "instance_groups_dict": {GROUP: resources["instance_groups"][0]},
        "is_hetero": False,
        "is_master": spec.host == spec.hosts[0],
        "is_modelparallel_enabled": None,
        "job_name": spec.job_name,
        "log_level": decoded.get("sagemaker_container_log_level", DEFAULT_LOG_LEVEL),
        "master_hostname": spec.hosts[0],
        "model_dir": str(layout.model_dir),
        "module_dir": str(decoded.get("sagemaker_submit_directory", "")),
        "module_name": program.removesuffix(".py"),
        "network_interface_name": NETWORK_INTERFACE,
        "num_cpus": spec.resources.vcpus,
        "num_gpus": len(spec.resources.gpu_ids),
        "num_neurons": 0,
        "output_data_dir": str(layout.output_data_dir),
        "output_dir": str(layout.output_dir),
        "output_intermediate_dir": str(layout.intermediate_dir),
        "resource_config": resources,
        "user_entry_point": program,
    }
    names = {
        "hosts": "SM_HOSTS",
        "network_interface_name": "SM_NETWORK_INTERFACE_NAME",
        "resource_config": "SM_RESOURCE_CONFIG",
        "input_data_config": "SM_INPUT_DATA_CONFIG",
        "output_data_dir": "SM_OUTPUT_DATA_DIR",
        "current_host": "SM_CURRENT_HOST",
        "current_instance_type": "SM_CURRENT_INSTANCE_TYPE",
        "current_instance_group": "SM_CURRENT_INSTANCE_GROUP",
        "current_instance_group_hosts": "SM_CURRENT_INSTANCE_GROUP_HOSTS",
        "instance_groups": "SM_INSTANCE_GROUPS",
        "instance_groups_dict": "SM_INSTANCE_GROUPS_DICT",
        "distribution_hosts": "SM_DISTRIBUTION_HOSTS",
        "distribution_instance_groups": "SM_DISTRIBUTION_INSTANCE_GROUPS",
        "is_hetero": "SM_IS_HETERO_CLUSTER",
        "module_name": "SM_MODULE_NAME",
        "log_level": "SM_LOG_LEVEL",
        "framework_module": "SM_FRAMEWORK_MODULE",
        "input_dir": "SM_INPUT_DIR",
        "input_config_dir": "SM_INPUT_CONFIG_DIR",
        "output_dir": "SM_OUTPUT_DIR",
        "num_cpus": "SM_NUM_CPUS",
        "num_gpus": "SM_NUM_GPUS",
        "num_neurons": "SM_NUM_NEURONS",
        "model_dir": "SM_MODEL_DIR",
        "module_dir": "SM_MODULE_DIR",
        "output_intermediate_dir": "SM_OUTPUT_INTERMEDIATE_DIR",
        "user_entry_point": "SM_USER_ENTRY_POINT",
        "additional_framework_parameters": "SM_FRAMEWORK_PARAMS",
    }
    env = {variable: _text(training_env[key]) for key, variable in names.items()}
    env["SM_CHANNELS"] = _dump(channels)
    env.update({f"SM_CHANNEL_{name.upper()}": path for name, path in channel_dirs.items()})
    env["SM_HPS"] = _dump(hyperparameters)
    env.update({f"SM_HP_{name.upper()}": _text(value) for name, value in hyperparameters.items()})
    env["SM_USER_ARGS"] = _dump(command_line_arguments(hyperparameters))
    env["SM_TRAINING_ENV"] = _dump(training_env)
    return env


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _dump(value)
